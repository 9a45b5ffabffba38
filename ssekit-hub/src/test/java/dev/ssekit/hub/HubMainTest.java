package dev.ssekit.hub;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ssekit.codec.SseEvent;
import dev.ssekit.testkit.RawHttp;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The hub as a user starts it: its own JVM, demo mode, the printed tokens used for real, kill -9. */
@Timeout(120)
class HubMainTest {

    @TempDir
    Path data;

    private static Process java(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "dev.ssekit.hub.HubMain"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().keySet().removeIf(k -> k.startsWith("MERCURE_") || k.startsWith("SSEKIT_"));
        return pb.redirectErrorStream(true).redirectOutput(Files.createTempFile("hub", ".log").toFile()).start();
    }

    /** Starts a hub (demo mode without a key; a fixed key keeps tokens valid across restarts) and waits for it. */
    private HubProcess start(String key, String... more) throws Exception {
        return HubProcess.start(data, key, more);
    }

    private static HttpResponse<String> publish(HttpClient http, HubProcess hub, String form) throws Exception {
        return http.send(HttpRequest.newBuilder(hub.url()).header("Authorization", "Bearer " + hub.publisher())
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void demoModePrintsAKeyAndTokensThatWork() throws Exception {
        try (HubProcess hub = start(null); HttpClient http = HttpClient.newHttpClient();
                RawHttp sub = RawHttp.get(hub.address(), hub.url().getPath() + "?topic=demo", "HTTP/1.1",
                        "Authorization: Bearer " + hub.subscriber())) {
            assertThat(sub.statusLine).isEqualTo("HTTP/1.1 200 OK");
            // subscribed once the head has arrived: publish at once
            assertThat(publish(http, hub, "topic=demo&data=hello&private=on").statusCode()).isEqualTo(200);
            assertThat(sub.readEvent()).startsWith(":\n").endsWith("data: hello\n\n");
            // SIGTERM: the drain (issue #26) closes the one stream at once with a retry hint (no event) that is
            // drawn from the 20 s window, then it ends; the process exits 0 (HubDrainTest times many streams)
            hub.process().destroy();
            assertThat(sub.readToEnd()).as("a retry hint alone, no event").matches("retry: \\d+\n\n");
            assertThat(hub.process().waitFor(10, TimeUnit.SECONDS)).as("the hub exits after SIGTERM").isTrue();
            assertThat(hub.process().exitValue()).as("exit status after a drain").isEqualTo(0);
        }
        assertThat(java("--listen", "bad").waitFor()).as("exit code for a bad flag").isEqualTo(2);
    }

    @Test
    void demoModeSpeaksMercure10WithItsPrintedIssuerAudienceAndAccessTokens() throws Exception {
        // without --protocol-version-compatibility: the printed tokens must be 1.0 access tokens (issue #24, item 6)
        try (HubProcess hub = start(null, "--protocol-version-compatibility", "none"); HttpClient http = HttpClient.newHttpClient()) {
            String printed = Files.readString(hub.log());
            assertThat(printed).contains("issuer:           " + HubMain.DEMO_ISSUER + "\n")
                    .contains("audience:         " + hub.url() + "\n");
            for (String token : List.of(hub.publisher(), hub.subscriber())) {
                String[] parts = token.split("\\.");
                assertThat(new String(java.util.Base64.getUrlDecoder().decode(parts[0]), UTF_8)).contains("\"typ\":\"at+jwt\"");
                assertThat(new String(java.util.Base64.getUrlDecoder().decode(parts[1]), UTF_8))
                        .contains("\"iss\":\"" + HubMain.DEMO_ISSUER + "\"").contains("\"aud\":\"" + hub.url() + "\"")
                        .contains("\"exp\":").contains("\"authorization_details\":[{").doesNotContain("\"mercure\"");
            }
            try (RawHttp sub = RawHttp.get(hub.address(), hub.url().getPath() + "?match=demo", "HTTP/1.1",
                    "Authorization: Bearer " + hub.subscriber())) {
                assertThat(sub.statusLine).isEqualTo("HTTP/1.1 200 OK");
                assertThat(publish(http, hub, "topic=demo&data=hello&private=on").statusCode()).isEqualTo(200);
                assertThat(sub.readEvent()).startsWith(":\n").endsWith("data: hello\n\n");
            }
            try (RawHttp old = RawHttp.get(hub.address(), hub.url().getPath() + "?topic=demo", "HTTP/1.1")) {
                assertThat(old.statusLine).as("0.x topic= outside compatibility mode").startsWith("HTTP/1.1 400");
            }
        }
    }

    @Test
    void everyAcknowledgedPublishSurvivesKill9() throws Exception {
        String key = "a-fixed-development-key-of-at-least-32-bytes";
        List<String> ids = new ArrayList<>();
        HubProcess first = start(key);
        try (HttpClient http = HttpClient.newHttpClient()) {
            for (int i = 1; i <= 20; i++) {
                HttpResponse<String> r = publish(http, first, "topic=orders&data=order+" + i);
                assertThat(r.statusCode()).isEqualTo(200);
                ids.add(r.body());
            }
        } finally {
            first.process().destroyForcibly(); // SIGKILL: no shutdown hook, no flush of anything
            first.process().waitFor(10, TimeUnit.SECONDS);
        }
        try (HubProcess second = start(key);
                RawHttp resumed = RawHttp.get(second.address(), second.url().getPath() + "?topic=orders", "HTTP/1.1",
                        "Last-Event-ID: " + ids.get(4))) {
            assertThat(resumed.headers).containsEntry("last-event-id", ids.get(4));
            List<SseEvent> events = resumed.events(15);
            List<String> expected = new ArrayList<>();
            for (int i = 6; i <= 20; i++) {
                expected.add("order " + i);
            }
            assertThat(events).extracting(SseEvent::data).isEqualTo(expected);
            assertThat(events).extracting(SseEvent::id).isEqualTo(ids.subList(5, 20));
        }
    }

    @Test
    void rs256KeysFromTheCommandLineAndJsonLogLines() throws Exception {
        java.security.KeyPairGenerator gen = java.security.KeyPairGenerator.getInstance("RSA");
        gen.initialize(2048);
        java.security.KeyPair pair = gen.generateKeyPair();
        String pem = "-----BEGIN PUBLIC KEY-----\n"
                + java.util.Base64.getMimeEncoder(64, "\n".getBytes(UTF_8)).encodeToString(pair.getPublic().getEncoded())
                + "\n-----END PUBLIC KEY-----\n";
        String signed = JwtVerifierTest.b64("{\"alg\":\"RS256\"}") + "." + JwtVerifierTest.b64("{\"mercure\":{\"publish\":[\"*\"]}}");
        java.security.Signature rsa = java.security.Signature.getInstance("SHA256withRSA");
        rsa.initSign(pair.getPrivate());
        rsa.update(signed.getBytes(UTF_8));
        String rsToken = signed + "." + java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(rsa.sign());
        try (HubProcess hub = start(pem, "--jwt-alg", "RS256", "--log-format", "json"); HttpClient http = HttpClient.newHttpClient()) {
            HttpResponse<String> ok = http.send(HttpRequest.newBuilder(hub.url()).header("Authorization", "Bearer " + rsToken)
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString("topic=t&data=signed+with+RSA")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(ok.statusCode()).isEqualTo(200);
            String hsToken = JwtVerifierTest.hs256("{\"alg\":\"HS256\"}", "{\"mercure\":{\"publish\":[\"*\"]}}",
                    pair.getPublic().getEncoded());
            HttpResponse<String> refused = http.send(HttpRequest.newBuilder(hub.url()).header("Authorization", "Bearer " + hsToken)
                    .POST(HttpRequest.BodyPublishers.ofString("topic=t&data=x")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(refused.statusCode()).isEqualTo(401);
            assertThat(http.send(HttpRequest.newBuilder(hub.url().resolve("/")).build(), HttpResponse.BodyHandlers.discarding())
                    .statusCode()).as("a configured key means no demo page").isEqualTo(404);

            List<Map<String, Object>> records = new ArrayList<>();
            await("three access log records").atMost(Duration.ofSeconds(10)).pollInSameThread().until(() -> {
                records.clear();
                for (String line : Files.readAllLines(hub.log(), UTF_8)) {
                    if (line.startsWith("{")) {
                        records.add(com.fasterxml.jackson.jr.ob.JSON.std.mapFrom(line)); // every log line is one JSON object
                    }
                }
                return records.stream().filter(r -> AccessLog.LOGGER.equals(r.get("logger"))).count() >= 3;
            });
            List<String> access = records.stream().filter(r -> AccessLog.LOGGER.equals(r.get("logger")))
                    .map(r -> (String) r.get("message")).toList();
            assertThat(access).hasSize(3);
            assertThat(access.get(0)).contains("\"POST /.well-known/mercure HTTP/1.1\" 200 ");
            assertThat(access.get(1)).contains("\"POST /.well-known/mercure HTTP/1.1\" 401 ");
            assertThat(access.get(2)).contains("\"GET / HTTP/1.1\" 404 ");
            assertThat(records).allSatisfy(r -> assertThat(r).containsKeys("time", "level", "logger", "message"));
            assertThat(records).anySatisfy(r -> assertThat((String) r.get("message"))
                    .contains("rejected: 401 token algorithm HS256 is not accepted; this hub accepts RS256"));
        }
    }

    @Test
    void aFullDiskRefusesPublishesWith503AndServesNothingThatWasNotStored() throws Exception {
        // the log is /dev/full: every write fails with "No space left on device"
        Files.createSymbolicLink(data.resolve("events.log"), Path.of("/dev/full"));
        String key = "a-fixed-development-key-of-at-least-32-bytes";
        try (HubProcess hub = start(key, "--metrics-token", "metrics-token"); HttpClient http = HttpClient.newHttpClient();
                RawHttp sub = RawHttp.get(hub.address(), hub.url().getPath() + "?topic=orders", "HTTP/1.1")) {
            assertThat(sub.statusLine).isEqualTo("HTTP/1.1 200 OK");
            HttpResponse<String> refused = publish(http, hub, "topic=orders&data=lost%3F");
            assertThat(refused.statusCode()).isEqualTo(503);
            assertThat(refused.body()).isEqualTo("the hub cannot store updates right now\n");
            assertThat(refused.headers().firstValue("retry-after")).contains("5");
            assertThat(http.send(HttpRequest.newBuilder(hub.url().resolve("/healthz")).build(), HttpResponse.BodyHandlers.ofString())
                    .statusCode()).isEqualTo(200);
            String metrics = http.send(HttpRequest.newBuilder(hub.url().resolve("/metrics"))
                    .header("Authorization", "Bearer metrics-token").build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            assertThat(metrics).contains("ssekit_published_total 0\n").contains("ssekit_history_events 0\n");
            await().atMost(Duration.ofSeconds(10)).untilAsserted(
                    () -> assertThat(Files.readString(hub.log())).contains("publish refused").contains("No space left on device"));
            sub.socket.setSoTimeout(500);
            StringBuilder got = new StringBuilder();
            try {
                for (int c; (c = sub.readBody()) >= 0;) {
                    got.append((char) c);
                }
            } catch (java.net.SocketTimeoutException quiet) {
                // nothing more within 500 ms
            }
            assertThat(got.toString()).as("only the opening comment, no event").isEqualTo(":\n");
        }
    }

    @Test
    void anUnusableDataDirectoryStopsTheHubWithAClearError() throws Exception {
        Path out = Files.createTempFile("hub", ".log");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "dev.ssekit.hub.HubMain", "--listen", "127.0.0.1:0",
                "--data", "/dev/null/history").redirectErrorStream(true).redirectOutput(out.toFile()).start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(2);
        assertThat(Files.readString(out)).startsWith("error: --data /dev/null/history: cannot open the event log in /dev/null/history");
    }
}
