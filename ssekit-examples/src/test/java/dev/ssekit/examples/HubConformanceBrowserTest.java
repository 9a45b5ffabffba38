package dev.ssekit.examples;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mercure's conformance suites in Chromium. The ten cases of the 1.0 suite ({@code conformance-tests/mercure.spec.ts} at tag
 * {@code v1.0.0-alpha.3} of dunglas/mercure), written again as src/test/browser/mercure-conformance.mjs, in Chromium
 * against the hub started as the issue asks: {@code --issuer https://localhost --resource-id
 * https://localhost/.well-known/mercure --publisher-jwt-key '!ChangeThisMercureHubJWTSecretKey!' --anonymous true
 * --subscriptions true}, with the suite's own token. Before issue #24, 0 of 10 passed: every {@code match=} was 400.
 * And the eleven cases of the 0.x suite (the same file at tag {@code v0.24.2}: {@code topic=} with URI templates, a 0.x
 * token with the {@code mercure} claim), against the hub in {@code --protocol-version-compatibility 8} with the same
 * key and no issuer, as a 0.x deployment upgrades: they pass as they did before 1.0 (issue #24, item 3).
 */
@Timeout(200)
class HubConformanceBrowserTest {

    /** The suite's token (mercure.spec.ts:171): HS256 at+jwt, iss https://localhost, publish and subscribe on *. */
    static final String SUITE_TOKEN = "eyJhbGciOiJIUzI1NiIsInR5cCI6ImF0K2p3dCJ9."
            + "eyJhdWQiOiJodHRwczovL2xvY2FsaG9zdC8ud2VsbC1rbm93bi9tZXJjdXJlIiwiaXNzIjoiaHR0cHM6Ly9sb2NhbGhvc3QiLCJhdXRob3JpemF0aW9uX2Rl"
            + "dGFpbHMiOlt7InR5cGUiOiJodHRwczovL21lcmN1cmUucm9ja3MvYXV0aG9yaXphdGlvbi1kZXRhaWwiLCJhY3Rpb25zIjpbInB1Ymxpc2giXSwidG9waWNz"
            + "IjpbeyJtYXRjaCI6IioifV19LHsidHlwZSI6Imh0dHBzOi8vbWVyY3VyZS5yb2Nrcy9hdXRob3JpemF0aW9uLWRldGFpbCIsImFjdGlvbnMiOlsic3Vic2Ny"
            + "aWJlIl0sInRvcGljcyI6W3sibWF0Y2giOiIqIn1dfV0sImV4cCI6NDEwMjQ0NDgwMH0."
            + "z_S8IP5WZsCK8h3pcq0PB5zvJE0OdTrGA70khAYJQy4";

    /**
     * The v0.24.2 suite's token (mercure.spec.ts there): {@code {"alg":"HS256"}}, {@code {"mercure":{"publish":["*"],
     * "subscribe":["*"]}}}: no typ, iss, aud or exp.
     */
    static final String SUITE_0X_TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJtZXJjdXJlIjp7InB1Ymxpc2giOlsiKiJdLCJzdWJzY3JpYmUiOlsiKiJdfX0."
            + "bVXdlWXwfw9ySx7-iV5OpUSHo34RkjUdVzDLBcc6l_g";

    @TempDir
    Path data;

    @Test
    void theTenCasesOfTheConformanceSuitePass() throws Exception {
        run("1.0", SUITE_TOKEN, 10, "--issuer", "https://localhost", "--resource-id", "https://localhost/.well-known/mercure",
                "--publisher-jwt-key", "!ChangeThisMercureHubJWTSecretKey!", "--anonymous", "true", "--subscriptions", "true");
    }

    @Test
    void theElevenCasesOfTheV0242SuitePassInCompatibilityMode() throws Exception {
        run("0.24.2", SUITE_0X_TOKEN, 11, "--protocol-version-compatibility", "8",
                "--publisher-jwt-key", "!ChangeThisMercureHubJWTSecretKey!", "--anonymous", "true", "--subscriptions", "true");
    }

    private void run(String suite, String token, int cases, String... hubArgs) throws Exception {
        Path log = Files.createTempFile("hub", ".log");
        List<String> cmd = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "dev.ssekit.hub.HubMain",
                "--listen", "127.0.0.1:0", "--data", data.resolve(suite).toString()));
        cmd.addAll(List.of(hubArgs));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().keySet().removeIf(k -> k.startsWith("MERCURE_") || k.startsWith("SSEKIT_"));
        Process hub = pb.redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            URI url = await("the hub's address").atMost(java.time.Duration.ofSeconds(30)).pollInterval(java.time.Duration.ofMillis(50))
                    .until(() -> Files.readAllLines(log, UTF_8).stream().filter(l -> l.startsWith("ssekit hub on "))
                            .map(l -> URI.create(l.substring("ssekit hub on ".length()).replaceAll(" .*", ""))).findFirst(),
                            found -> found.isPresent() || !hub.isAlive())
                    .orElseThrow(() -> new AssertionError("the hub did not start: " + output(log)));
            String base = url.getScheme() + "://" + url.getAuthority();
            String out = BrowserScripts.run("mercure-conformance.mjs", base, token, suite);
            List<String> lines = out.lines().filter(l -> l.startsWith("{\"kind\":\"conformance\"")).toList();
            assertThat(lines).as("one line per case; output: %s", out).hasSize(cases);
            for (String line : lines) {
                assertThat(line).as("the subscription opened").contains("\"opened\":true");
                assertThat(line).as("published: 200 text/plain with the id").contains("\"status\":200")
                        .containsPattern("\"contentType\":\"text/plain(;[^\"]*)?\"");
                boolean must = line.contains("\"mustBeReceived\":true");
                assertThat(line).as("received as the suite expects").contains("\"received\":" + must);
                if (must) {
                    String id = line.replaceAll(".*\"id\":(\"(?:[^\"\\\\]|\\\\.)*\").*", "$1");
                    assertThat(line).as("the body is the id").contains("\"body\":" + id);
                }
            }
        } finally {
            hub.destroy();
            if (!hub.waitFor(10, TimeUnit.SECONDS)) {
                hub.destroyForcibly();
            }
        }
    }

    private static String output(Path log) {
        try {
            return Files.readString(log);
        } catch (java.io.IOException e) {
            return "(unreadable: " + e + ")";
        }
    }
}
