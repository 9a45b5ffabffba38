package dev.ssekit.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every Java sample in README.md is the compiled code between readme markers in this module. */
class ReadmeSamplesTest {

    static Stream<Arguments> samples() {
        return Stream.of(Arguments.of("server", "QuickstartServer.java"), Arguments.of("client", "QuickstartClient.java"),
                Arguments.of("broadcaster", "BroadcasterSample.java"), Arguments.of("servlet", "ServletSample.java"),
                Arguments.of("netty", "NettySample.java"), Arguments.of("redis", "RedisSample.java"),
                Arguments.of("streaming", "StreamingApiSample.java"), Arguments.of("mercure", "MercureSample.java"),
                Arguments.of("mercure-subscribe", "MercureSubscribeSample.java"),
                Arguments.of("mercure-stream", "MercureStreamSample.java"),
                // Reactor is a test dependency only: this sample lives (and is compiled) with the tests
                Arguments.of("reactor", "../../../../../test/java/dev/ssekit/examples/ReactorSample.java"),
                // nimbus-jose-jwt comes with ssekit-hub, a test dependency: these live with the tests too
                Arguments.of("mercure-token", "../../../../../test/java/dev/ssekit/examples/MercureMigrationSample.java"),
                Arguments.of("mercure-subscriber", "../../../../../test/java/dev/ssekit/examples/MercureMigrationSample.java"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("samples")
    void readmeShowsTheCompiledSample(String name, String file) throws Exception {
        List<String> lines = Files.readAllLines(Path.of("src/main/java/dev/ssekit/examples", file));
        int start = indexOfMarker(lines, "// readme:" + name + ":start");
        int end = indexOfMarker(lines, "// readme:" + name + ":end");
        List<String> region = lines.subList(start + 1, end);
        int indent = region.stream().filter(l -> !l.isBlank()).mapToInt(l -> l.length() - l.stripLeading().length())
                .min().orElse(0);
        StringBuilder sb = new StringBuilder();
        region.forEach(l -> sb.append(l.isBlank() ? "" : l.substring(indent)).append('\n'));
        String sample = sb.toString();
        String readme = Files.readString(Path.of("../README.md"));
        assertThat(readme).as("README.md holds %s verbatim", file).contains("```java\n" + sample + "```");
        long codeLines = sample.lines().filter(l -> !l.isBlank() && !l.startsWith("import ")).count();
        assertThat(codeLines).as("lines of the %s sample, imports aside", name).isLessThanOrEqualTo(15);
    }

    private static int indexOfMarker(List<String> lines, String marker) {
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).strip().equals(marker)) {
                return i;
            }
        }
        throw new AssertionError("no line " + marker);
    }
}
