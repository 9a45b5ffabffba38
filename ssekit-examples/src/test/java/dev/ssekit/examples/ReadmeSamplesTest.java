package dev.ssekit.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every Java sample in README.md is the compiled code between readme markers in this module. */
class ReadmeSamplesTest {

    static Stream<Arguments> samples() {
        return Stream.of(Arguments.of("server", "QuickstartServer.java"), Arguments.of("client", "QuickstartClient.java"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("samples")
    void readmeShowsTheCompiledSample(String name, String file) throws Exception {
        String source = Files.readString(Path.of("src/main/java/dev/ssekit/examples", file));
        String start = "// readme:" + name + ":start\n";
        String end = "// readme:" + name + ":end";
        assertThat(source).contains(start).contains(end);
        String sample = source.substring(source.indexOf(start) + start.length(), source.indexOf(end));
        String readme = Files.readString(Path.of("../README.md"));
        assertThat(readme).as("README.md holds %s verbatim", file).contains("```java\n" + sample + "```");
        long codeLines = sample.lines().filter(l -> !l.isBlank() && !l.startsWith("import ")).count();
        assertThat(codeLines).as("lines of the %s sample, imports aside", name).isLessThanOrEqualTo(15);
    }
}
