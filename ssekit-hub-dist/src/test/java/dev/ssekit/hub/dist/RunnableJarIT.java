package dev.ssekit.hub.dist;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** ssekit-hub-VERSION.jar, as built by the ssekit-hub module, runs with {@code java -jar} alone. */
@Timeout(180)
class RunnableJarIT {

    @TempDir
    Path data;

    @Test
    void javaDashJarRunsTheHubWithItsLibDirectoryAndNoWarning() throws Exception {
        Path jar = Path.of(System.getProperty("hub.jar"));
        assertThat(jar).isRegularFile();
        assertThat(jar.resolveSibling("lib")).isDirectory();
        Map<String, String> env = new HashMap<>(System.getenv());
        env.keySet().removeIf(k -> k.startsWith("SSEKIT_") || k.startsWith("MERCURE_") || k.startsWith("JAVA_TOOL_OPTIONS")
                || k.startsWith("JDK_JAVA_OPTIONS"));
        env.put("SSEKIT_PUBLISHER_JWT_KEY", Launched.KEY);
        env.put("SSEKIT_PROTOCOL_VERSION_COMPATIBILITY", "8"); // 0.x tokens (issue #24)
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        // from another directory: the manifest's Class-Path is relative to the jar, not to the working directory
        try (Launched hub = Launched.start(List.of(java, "-jar", jar.toAbsolutePath().toString(), "--listen", "127.0.0.1:0",
                "--data", data.toString()), env)) {
            hub.subscribeAndPublish(null);
            // Enable-Native-Access in the manifest: Netty loads epoll without the JDK's restricted-method warning
            assertThat(hub.output()).doesNotContain("WARNING");
        }
        assertThat(Files.list(data)).as("the history went to --data").isNotEmpty();
    }
}
