package dev.ssekit.hub;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ssekit.testkit.RawHttp;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The hub as a user starts it: its own JVM, demo mode, the printed tokens used for real. */
@Timeout(60)
class HubMainTest {

    private static void record(String line, Map<String, String> printed) {
        if (line.startsWith("ssekit hub on ")) {
            printed.put("url", line.substring("ssekit hub on ".length()));
        } else if (line.startsWith("publisher token:")) {
            printed.put("publisher", line.substring("publisher token:".length()).trim());
        } else if (line.startsWith("subscriber token:")) {
            printed.put("subscriber", line.substring("subscriber token:".length()).trim());
        }
    }

    @Test
    void demoModePrintsAKeyAndTokensThatWork() throws Exception {
        Path javaBin = Path.of(System.getProperty("java.home"), "bin", "java");
        Path log = Files.createTempFile("hub", ".log");
        ProcessBuilder pb = new ProcessBuilder(javaBin.toString(), "-cp", System.getProperty("java.class.path"),
                "dev.ssekit.hub.HubMain", "--listen", "127.0.0.1:0").redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().remove("MERCURE_PUBLISHER_JWT_KEY");
        pb.environment().remove("SSEKIT_PUBLISHER_JWT_KEY");
        Process hub = pb.start();
        try {
            Map<String, String> printed = new HashMap<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (printed.size() < 3 && System.nanoTime() < deadline && hub.isAlive()) {
                printed.clear();
                for (String line : Files.readAllLines(log, UTF_8)) {
                    record(line, printed);
                }
                Thread.sleep(50);
            }
            assertThat(printed).as("hub output: %s", Files.readString(log)).containsKeys("url", "publisher", "subscriber");

            URI url = URI.create(printed.get("url"));
            try (RawHttp sub = RawHttp.get(new InetSocketAddress(url.getHost(), url.getPort()),
                    url.getPath() + "?topic=demo", "HTTP/1.1", "Authorization: Bearer " + printed.get("subscriber"));
                    HttpClient http = HttpClient.newHttpClient()) {
                assertThat(sub.statusLine).isEqualTo("HTTP/1.1 200 OK");
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(url)
                        .header("Authorization", "Bearer " + printed.get("publisher"))
                        .header("Content-Type", "application/x-www-form-urlencoded")
                        .POST(HttpRequest.BodyPublishers.ofString("topic=demo&data=hello&private=on")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).isEqualTo(200);
                // the stream opens with a ':' comment; the event follows it
                assertThat(sub.readEvent()).startsWith(":\n").endsWith("data: hello\n\n");
            }
            assertThat(new ProcessBuilder(javaBin.toString(), "-cp", System.getProperty("java.class.path"),
                    "dev.ssekit.hub.HubMain", "--listen", "bad").start().waitFor()).as("exit code for a bad flag").isEqualTo(2);
        } finally {
            hub.destroy(); // SIGTERM: the shutdown hook closes the hub
            if (!hub.waitFor(10, TimeUnit.SECONDS)) {
                hub.destroyForcibly();
            }
        }
    }
}
