package dev.ssekit.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ssekit.testkit.Recorder;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The client against a third-party server: Node's better-sse (npm), started by the test. */
@Timeout(60)
class InteropTest {

    @Test
    void readsBetterSseAndResumesWithLastEventId() throws Exception {
        Path dir = Path.of("src/test/node").toAbsolutePath();
        assertThat(dir.resolve("node_modules/better-sse")).as("npm ci ran in %s", dir).isDirectory();
        Process node = new ProcessBuilder("node", "better-sse-server.mjs").directory(dir.toFile())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(node.getInputStream(), StandardCharsets.UTF_8));
            String ready = out.readLine();
            assertThat(ready).as("better-sse server started").startsWith("listening ");
            URI uri = URI.create("http://127.0.0.1:" + ready.substring("listening ".length()) + "/sse");

            RecordingListener l = new RecordingListener();
            try (EventSource source = EventSource.builder(uri)
                    .retryPolicy(RetryPolicy.builder().initialDelay(Duration.ofMillis(10)).build()).build()) {
                source.start(l);
                l.expect("open 200",
                        Recorder.event("greeting", "1", "hello from better-sse"),
                        // better-sse 0.16.1 writes data with a custom serializer raw ("data:line one\nline two"),
                        // like V's veb.sse: a browser, and ssekit, read "line one" and ignore the rest
                        Recorder.event("multi", "2", "line one"),
                        Recorder.event("message", "3", "Grüße, 世界 😀"),
                        "error StreamEndedException",
                        "open 200",
                        Recorder.event("resume", "4", "resumed after 3"));
                assertThat(source.lastEventId()).isEqualTo("4");
            }
            l.expect("closed ok");
        } finally {
            node.getOutputStream().close();
            if (!node.waitFor(5, TimeUnit.SECONDS)) {
                node.destroyForcibly();
            }
        }
    }
}
