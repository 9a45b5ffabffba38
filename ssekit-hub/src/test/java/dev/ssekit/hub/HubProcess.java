package dev.ssekit.hub;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ssekit.testkit.HubJvm;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A hub in a JVM of its own ({@link HubJvm}: started as a user starts it, {@code HubMain}, no SSEKIT_/MERCURE_
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
        List<String> args = new ArrayList<>(List.of("--data", data.toString()));
        if (key != null) {
            args.addAll(List.of("--publisher-jwt-key", key));
        }
        if (!List.of(more).contains("--issuer") && !List.of(more).contains("--protocol-version-compatibility")) {
            // the hub's process tests speak Mercure 0.x: compatibility mode (issue #24)
            args.addAll(List.of("--protocol-version-compatibility", "8"));
        }
        args.addAll(List.of(more));
        HubJvm hub = HubJvm.start(jvm, env, args.toArray(String[]::new));
        String publisher;
        String subscriber;
        if (key != null) {
            byte[] k = key.getBytes(UTF_8);
            publisher = Tokens.hs256("{\"mercure\":{\"publish\":[\"*\"]}}", k);
            subscriber = Tokens.hs256("{\"mercure\":{\"subscribe\":[\"*\"]}}", k);
        } else if (!List.of(more).contains("--publisher-jwks-url")) {
            // without any publisher key the hub runs in demo mode and prints its tokens too (after its address)
            try {
                await("the hub's tokens").atMost(java.time.Duration.ofSeconds(30)).pollInterval(java.time.Duration.ofMillis(50))
                        .until(() -> hub.printed("subscriber token:").isPresent() || !hub.process().isAlive());
            } catch (org.awaitility.core.ConditionTimeoutException timeout) {
                // reported below, with the output
            }
            publisher = hub.printed("publisher token:").orElse(null);
            subscriber = hub.printed("subscriber token:").orElse(null);
            assertThat(List.of(String.valueOf(publisher), String.valueOf(subscriber))).as("hub output: %s", hub.output())
                    .doesNotContain("null");
        } else {
            publisher = null;
            subscriber = null;
        }
        return new HubProcess(hub.process(), hub.url(), publisher, subscriber, hub.log());
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
