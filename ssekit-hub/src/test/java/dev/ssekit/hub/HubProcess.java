package dev.ssekit.hub;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A hub in a JVM of its own, started as a user starts it ({@code HubMain}, no SSEKIT_/MERCURE_
 * variables inherited), and what it printed: its URL and, in demo mode, the ready-made tokens; with
 * a fixed key, tokens minted for that key. {@link #close()} sends SIGTERM.
 */
record HubProcess(Process process, URI url, String publisher, String subscriber, Path log) implements AutoCloseable {

    /**
     * Starts {@code HubMain --listen 127.0.0.1:0 --data DATA [--publisher-jwt-key KEY]
     * [--protocol-version-compatibility 8, unless MORE gives it or --issuer] MORE…} and
     * waits until it has printed where it listens (and, without a key, its tokens).
     *
     * @param key the publisher key, or null for demo mode
     */
    static HubProcess start(Path data, String key, String... more) throws Exception {
        return start(List.of(), data, key, more);
    }

    /** As {@link #start(Path, String, String...)}, with these JVM options (e.g. {@code -Xmx256m}). */
    static HubProcess start(List<String> jvm, Path data, String key, String... more) throws Exception {
        return start(jvm, data, key, Map.of(), more);
    }

    /** As {@link #start(Path, String, String...)}, with these environment variables (e.g. {@code SSEKIT_DRAIN}). */
    static HubProcess start(Path data, String key, Map<String, String> env, String... more) throws Exception {
        return start(List.of(), data, key, env, more);
    }

    private static HubProcess start(List<String> jvm, Path data, String key, Map<String, String> env, String... more)
            throws Exception {
        Path log = Files.createTempFile("hub", ".log");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(jvm);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "dev.ssekit.hub.HubMain",
                "--listen", "127.0.0.1:0", "--data", data.toString()));
        if (key != null) {
            cmd.addAll(List.of("--publisher-jwt-key", key));
        }
        if (!List.of(more).contains("--issuer") && !List.of(more).contains("--protocol-version-compatibility")) {
            // the hub's process tests speak Mercure 0.x: compatibility mode (issue #24)
            cmd.addAll(List.of("--protocol-version-compatibility", "8"));
        }
        cmd.addAll(List.of(more));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().keySet().removeIf(k -> k.startsWith("MERCURE_") || k.startsWith("SSEKIT_"));
        pb.environment().putAll(env);
        Process p = pb.redirectErrorStream(true).redirectOutput(log.toFile()).start();
        Map<String, String> printed = new HashMap<>();
        // without any publisher key the hub runs in demo mode and prints its tokens too
        int wanted = key == null && !List.of(more).contains("--publisher-jwks-url") ? 3 : 1;
        try {
            // until it printed all, or stopped (then its output says why); a JVM on a loaded machine may take long to start
            await("the hub's address and tokens").atMost(java.time.Duration.ofSeconds(90)).pollInSameThread()
                    .pollInterval(java.time.Duration.ofMillis(50)).until(() -> {
                        for (String line : Files.readAllLines(log, UTF_8)) {
                            if (line.startsWith("ssekit hub on ")) {
                                printed.put("url", line.substring("ssekit hub on ".length()).split(" ")[0]);
                            } else if (line.startsWith("publisher token:")) {
                                printed.put("publisher", line.substring("publisher token:".length()).trim());
                            } else if (line.startsWith("subscriber token:")) {
                                printed.put("subscriber", line.substring("subscriber token:".length()).trim());
                            }
                        }
                        return printed.size() >= wanted || !p.isAlive();
                    });
        } catch (org.awaitility.core.ConditionTimeoutException timeout) {
            // reported below, with the output
        }
        assertThat(printed).as("hub output: %s", Files.readString(log)).hasSize(wanted);
        if (key != null) {
            byte[] k = key.getBytes(UTF_8);
            printed.put("publisher", Tokens.hs256("{\"mercure\":{\"publish\":[\"*\"]}}", k));
            printed.put("subscriber", Tokens.hs256("{\"mercure\":{\"subscribe\":[\"*\"]}}", k));
        }
        return new HubProcess(p, URI.create(printed.get("url")), printed.get("publisher"), printed.get("subscriber"), log);
    }

    InetSocketAddress address() {
        return new InetSocketAddress(url.getHost(), url.getPort());
    }

    /** SIGTERM (the shutdown hook closes the hub), then SIGKILL after 10 s. */
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
