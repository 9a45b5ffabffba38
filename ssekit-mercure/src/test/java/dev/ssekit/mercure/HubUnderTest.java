package dev.ssekit.mercure;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The real ssekit hub, in a JVM of its own started from the test class path as a user starts it
 * ({@code HubMain}, no SSEKIT_/MERCURE_ variables inherited), in Mercure 1.0 mode: {@code --issuer
 * ISSUER --publisher-jwt-key KEY} (subscribers' key: the same), anonymous subscribers allowed, the
 * audience derived from each request (the hub URL). {@link #close()} sends SIGTERM.
 *
 * @param process the hub's JVM
 * @param url the hub URL it printed, {@code http://127.0.0.1:PORT/.well-known/mercure}
 * @param log its output
 */
record HubUnderTest(Process process, URI url, Path log) implements AutoCloseable {

    static final String ISSUER = "https://issuer.test";
    static final String KEY = "!ChangeThisMercureHubJWTSecretKey!";

    /** Starts a hub with the default issuer and key, and {@code more} options. */
    static HubUnderTest start(Path data, String... more) throws IOException {
        return startWithKey(data, KEY, more);
    }

    /**
     * Starts a hub with the default issuer, {@code key} as its {@code --publisher-jwt-key} (an HMAC
     * secret or a PEM public key), and {@code more} options.
     */
    static HubUnderTest startWithKey(Path data, String key, String... more) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-cp", System.getProperty("java.class.path"), "dev.ssekit.hub.HubMain",
                "--listen", "127.0.0.1:0", "--data", data.toString(), "--issuer", ISSUER, "--publisher-jwt-key", key,
                "--anonymous", "true"));
        cmd.addAll(List.of(more));
        Path log = Files.createTempFile("hub", ".log");
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().keySet().removeIf(k -> k.startsWith("MERCURE_") || k.startsWith("SSEKIT_"));
        Process p = pb.redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            URI url = await("the hub's address").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
                    .until(() -> Files.readAllLines(log, UTF_8).stream().filter(l -> l.startsWith("ssekit hub on "))
                            .map(l -> URI.create(l.substring("ssekit hub on ".length()).replaceAll(" .*", ""))).findFirst(),
                            found -> found.isPresent() || !p.isAlive())
                    .orElseThrow(() -> new AssertionError("the hub did not start: " + output(log)));
            return new HubUnderTest(p, url, log);
        } catch (RuntimeException | Error e) {
            p.destroyForcibly();
            throw e;
        }
    }

    /** A client of this hub minting tokens with the hub's issuer and key. */
    MercureClient.Builder client() {
        return MercureClient.builder(url).issuer(ISSUER).key(KEY);
    }

    String output() {
        return output(log);
    }

    private static String output(Path log) {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    /** SIGTERM (the hub's shutdown hook closes it), then SIGKILL after 10 s. */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
