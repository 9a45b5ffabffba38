package dev.ssekit.testkit;

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
 * The real ssekit hub in a JVM of its own, started as a user starts it: {@code java -cp <this
 * JVM's class path> dev.ssekit.hub.HubMain --listen 127.0.0.1:0 ARGS...} with no {@code SSEKIT_} or
 * {@code MERCURE_} variables inherited. The hub is named by class, not compiled against: a module
 * whose tests use this has ssekit-hub on its test class path, and ssekit-core's testkit needs no
 * dependency on it. {@link #close()} sends SIGTERM (the hub drains and exits), then SIGKILL after
 * 10 s. Not thread-safe.
 */
public final class HubJvm implements AutoCloseable {

    private static final String BANNER = "ssekit hub on ";

    private final Process process;
    private final URI url;
    private final Path log;

    private HubJvm(Process process, URI url, Path log) {
        this.process = process;
        this.url = url;
        this.log = log;
    }

    /**
     * Starts a hub and waits (at most 30 s) until it printed where it listens.
     *
     * @param args {@code HubMain}'s arguments after {@code --listen 127.0.0.1:0}, e.g. {@code
     *     --data DIR --issuer ISS --publisher-jwt-key KEY}
     * @return the running hub
     * @throws IOException if the JVM cannot be started or its log file created
     * @throws AssertionError with the hub's output if it exited or printed no address within 30 s
     */
    public static HubJvm start(String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-cp", System.getProperty("java.class.path"), "dev.ssekit.hub.HubMain",
                "--listen", "127.0.0.1:0"));
        cmd.addAll(List.of(args));
        Path log = Files.createTempFile("hub", ".log");
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().keySet().removeIf(k -> k.startsWith("MERCURE_") || k.startsWith("SSEKIT_"));
        Process p = pb.redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            URI url = await("the hub's address").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
                    .until(() -> Files.readAllLines(log, UTF_8).stream().filter(l -> l.startsWith(BANNER))
                            .map(l -> URI.create(l.substring(BANNER.length()).replaceAll(" .*", ""))).findFirst(),
                            found -> found.isPresent() || !p.isAlive())
                    .orElseThrow(() -> new AssertionError("the hub did not start: " + output(log)));
            return new HubJvm(p, url, log);
        } catch (RuntimeException | Error e) {
            p.destroyForcibly();
            throw e;
        }
    }

    /**
     * The hub URL it printed.
     *
     * @return e.g. {@code http://127.0.0.1:PORT/.well-known/mercure}
     */
    public URI url() {
        return url;
    }

    /**
     * The hub's JVM.
     *
     * @return the process
     */
    public Process process() {
        return process;
    }

    /**
     * What the hub printed so far (standard output and error), for assertion messages.
     *
     * @return the text, or a note when the log cannot be read
     */
    public String output() {
        return output(log);
    }

    private static String output(Path log) {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    /** SIGTERM, then SIGKILL when the hub has not exited within 10 s. Never throws. */
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
