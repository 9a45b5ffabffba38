package dev.ssekit.hub.dist;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.MACSigner;
import dev.ssekit.codec.SseEvent;
import dev.ssekit.testkit.RawHttp;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;

/**
 * A hub started from a packaged artifact, as a user starts it (its own process, the environment
 * given and nothing else), its output in a file; {@link #close()} sends SIGTERM, then SIGKILL after
 * 10 s. Also: short commands (tar, dpkg-deb) run with a deadline, and HS256 tokens for a fixed key.
 */
record Launched(Process process, URI url, Path log) implements AutoCloseable {

    /** An HMAC key as an operator would set it (SSEKIT_PUBLISHER_JWT_KEY). */
    static final String KEY = "a-fixed-key-for-the-packaged-hub-tests-of-ssekit";

    /** The directory the Maven build put the distributions in, and the version they carry. */
    static final Path DIST = Path.of(System.getProperty("dist.dir", "target"));
    static final String VERSION = System.getProperty("dist.version");

    /**
     * Starts {@code command} with exactly {@code env} as its environment and waits (at most 90 s)
     * until it printed where it listens.
     */
    static Launched start(List<String> command, Map<String, String> env) throws IOException {
        Path log = Files.createTempFile("packaged-hub", ".log");
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().clear();
        pb.environment().putAll(env);
        Process p = pb.start();
        String[] url = new String[1];
        try {
            await("the hub's address").atMost(Duration.ofSeconds(90)).pollInSameThread()
                    .pollInterval(Duration.ofMillis(100)).until(() -> {
                        for (String line : Files.readAllLines(log, UTF_8)) {
                            if (line.startsWith("ssekit hub on ")) {
                                url[0] = line.substring("ssekit hub on ".length()).split(" ")[0];
                            }
                        }
                        return url[0] != null || !p.isAlive();
                    });
        } catch (org.awaitility.core.ConditionTimeoutException timeout) {
            // reported below, with the output
        } finally {
            if (url[0] == null) {
                stop(p);
            }
        }
        assertThat(url[0]).as("the hub's output: %s", Files.readString(log)).isNotNull();
        return new Launched(p, URI.create(url[0]), log);
    }

    /** Runs a short command (at most 120 s) and returns its output, failing when it exits non-zero. */
    static String run(Path dir, String... command) throws IOException, InterruptedException {
        Path out = Files.createTempFile("command", ".out");
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(out.toFile()).start();
        try {
            assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("%s finishes within 120 s", List.of(command)).isTrue();
        } finally {
            stop(p);
        }
        String output = Files.readString(out);
        assertThat(p.exitValue()).as("%s exit status; output: %s", List.of(command), output).isZero();
        return output;
    }

    /** A token with this claims set, signed with {@link #KEY}. */
    static String token(String claimsJson) {
        JWSObject jws = new JWSObject(new JWSHeader(JWSAlgorithm.HS256), new Payload(claimsJson));
        try {
            jws.sign(new MACSigner(KEY.getBytes(UTF_8)));
        } catch (JOSEException e) {
            throw new AssertionError(e);
        }
        return jws.serialize();
    }

    /**
     * Subscribes to a topic with a subscriber token, publishes a private update to it with a
     * publisher token, and checks the subscriber gets it: the hub works end to end. Over TLS when
     * {@code tls} is not null (then through {@code localhost}, the name in its certificate).
     */
    void subscribeAndPublish(SSLContext tls) throws Exception {
        String topic = "https://example.com/books/1";
        String path = url.getPath() + "?topic=" + java.net.URLEncoder.encode(topic, UTF_8);
        String bearer = "Authorization: Bearer " + token("{\"mercure\":{\"subscribe\":[\"*\"]}}");
        InetSocketAddress address = tls == null ? new InetSocketAddress(url.getHost(), url.getPort())
                : new InetSocketAddress("localhost", url.getPort());
        try (RawHttp subscriber = tls == null ? RawHttp.get(address, path, "HTTP/1.1", bearer)
                : RawHttp.get(tls, address, path, "HTTP/1.1", bearer)) {
            assertThat(subscriber.statusLine).isEqualTo("HTTP/1.1 200 OK");
            HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10));
            URI target = url;
            if (tls != null) {
                builder.sslContext(tls);
                target = URI.create("https://localhost:" + url.getPort() + url.getPath());
            }
            try (HttpClient http = builder.build()) {
                HttpResponse<String> published = http.send(HttpRequest.newBuilder(target).timeout(Duration.ofSeconds(30))
                        .header("Authorization", "Bearer " + token("{\"mercure\":{\"publish\":[\"*\"]}}"))
                        .header("Content-Type", "application/x-www-form-urlencoded")
                        .POST(HttpRequest.BodyPublishers.ofString("topic=" + java.net.URLEncoder.encode(topic, UTF_8)
                                + "&data=packaged&private=on"))
                        .build(), HttpResponse.BodyHandlers.ofString());
                assertThat(published.statusCode()).as("publish: %s", published.body()).isEqualTo(200);
                List<SseEvent> events = subscriber.events(1);
                assertThat(events).extracting(SseEvent::data).containsExactly("packaged");
                assertThat(events.get(0).id()).isEqualTo(published.body());
            }
        }
    }

    /** Everything the hub printed so far. */
    String output() throws IOException {
        return Files.readString(log);
    }

    @Override
    public void close() {
        stop(process);
    }

    private static void stop(Process p) {
        p.destroy();
        try {
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
