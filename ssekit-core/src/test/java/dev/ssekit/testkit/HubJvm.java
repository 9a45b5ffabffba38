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
import java.util.Map;
import java.util.Optional;
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
     * Starts a hub ({@code -Xmx256m}, the environment without {@code SSEKIT_}/{@code MERCURE_}
     * variables) and waits (at most 90 s) until it printed where it listens.
     *
     * @param args {@code HubMain}'s arguments after {@code --listen 127.0.0.1:0}, e.g. {@code
     *     --data DIR --issuer ISS --publisher-jwt-key KEY}
     * @return the running hub
     * @throws IOException if the JVM cannot be started or its log file created
     * @throws AssertionError with the hub's output if it exited or printed no address within 90 s
     */
    public static HubJvm start(String... args) throws IOException {
        return start(List.of("-Xmx256m"), Map.of(), args);
    }

    /**
     * Starts a hub with these JVM options and environment variables (besides the inherited ones, without
     * {@code SSEKIT_}/{@code MERCURE_} variables) and waits (at most 90 s: a JVM on a loaded machine may
     * take long to start) until it printed where it listens.
     *
     * @param jvmOptions the JVM's options (e.g. {@code -Xmx256m}), before the class path
     * @param env environment variables of the hub (e.g. {@code SSEKIT_DRAIN})
     * @param args {@code HubMain}'s arguments after {@code --listen 127.0.0.1:0}
     * @return the running hub
     * @throws IOException if the JVM cannot be started or its log file created
     * @throws AssertionError with the hub's output if it exited or printed no address within 90 s
     */
    public static HubJvm start(List<String> jvmOptions, Map<String, String> env, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "dev.ssekit.hub.HubMain", "--listen", "127.0.0.1:0"));
        cmd.addAll(List.of(args));
        Path log = Files.createTempFile("hub", ".log");
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().keySet().removeIf(k -> k.startsWith("MERCURE_") || k.startsWith("SSEKIT_"));
        pb.environment().putAll(env);
        Process p = pb.redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            URI url = await("the hub's address").atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(50))
                    .until(() -> printed(log, BANNER).map(v -> URI.create(v.replaceAll(" .*", ""))),
                            found -> found.isPresent() || !p.isAlive())
                    .orElseThrow(() -> new AssertionError("the hub did not start: " + output(log)));
            return new HubJvm(p, url, log);
        } catch (RuntimeException | Error e) {
            p.destroyForcibly();
            throw e;
        }
    }

    /**
     * What follows {@code prefix} on the first line of the hub's output that starts with it.
     *
     * @param prefix e.g. {@code "publisher token:"}
     * @return the rest of that line, stripped, or empty when no line starts so (yet)
     * @throws IOException if the log cannot be read
     */
    public Optional<String> printed(String prefix) throws IOException {
        return printed(log, prefix);
    }

    private static Optional<String> printed(Path log, String prefix) throws IOException {
        return Files.readAllLines(log, UTF_8).stream().filter(l -> l.startsWith(prefix)).map(l -> l.substring(prefix.length()).strip())
                .findFirst();
    }

    /**
     * The file the hub's standard output and error go to.
     *
     * @return the log file
     */
    public Path log() {
        return log;
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
