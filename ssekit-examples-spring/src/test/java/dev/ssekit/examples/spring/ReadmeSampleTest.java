package dev.ssekit.examples.spring;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The Spring Boot sample in README.md is the compiled code between the readme markers of PricesApplication. */
class ReadmeSampleTest {

    @Test
    void readmeShowsTheCompiledSample() throws Exception {
        List<String> lines = Files.readAllLines(Path.of("src/main/java/dev/ssekit/examples/spring/PricesApplication.java"));
        List<String> stripped = lines.stream().map(String::strip).toList();
        List<String> region = lines.subList(stripped.indexOf("// readme:spring:start") + 1,
                stripped.indexOf("// readme:spring:end"));
        assertThat(region).isNotEmpty();
        int indent = region.stream().filter(l -> !l.isBlank()).mapToInt(l -> l.length() - l.stripLeading().length())
                .min().orElse(0);
        StringBuilder sample = new StringBuilder();
        region.forEach(l -> sample.append(l.isBlank() ? "" : l.substring(indent)).append('\n'));
        assertThat(Files.readString(Path.of("../README.md"))).as("README.md holds the sample verbatim")
                .contains("```java\n" + sample + "```");
    }
}
