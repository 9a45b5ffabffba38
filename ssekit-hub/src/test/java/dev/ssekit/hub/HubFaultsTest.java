package dev.ssekit.hub;

import static dev.ssekit.hub.JwtVerifierTest.KEY;
import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ssekit.Broadcaster;
import dev.ssekit.CloseReason;
import dev.ssekit.Scheduler;
import dev.ssekit.SseMessage;
import dev.ssekit.testkit.BlackholeProxy;
import dev.ssekit.testkit.ManualScheduler;
import dev.ssekit.testkit.RawHttp;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Faults (issue #9): clients that vanish without a FIN, and 10,000 that leave with a reset. */
@Timeout(180)
class HubFaultsTest {

    @TempDir
    Path dir;

    @Test
    void aSubscriberThatVanishesWithoutFinIsEvictedAndTheOthersMissNothing() throws Exception {
        JwtVerifier key = JwtVerifier.secret(KEY);
        // the broadcaster's clock stands still: no write times out and no heartbeat is sent, however
        // slowly this machine runs; what evicts is the queue limit alone
        ManualScheduler time = new ManualScheduler();
        Broadcaster b = Broadcaster.builder().scheduler(time).ticker(time).writeTimeout(Duration.ofSeconds(1))
                .maxQueuedBytes(1 << 20).heartbeat(Duration.ofSeconds(1)).build();
        try (MercureHub hub = MercureHub.start(new HubConfig(new InetSocketAddress("127.0.0.1", 0), key, key, true, Set.of(),
                64 * 1024, 10, 10, false, false, "", Duration.ofSeconds(10), java.util.Optional.empty()), b, Scheduler.system(), Clock.systemUTC());
                BlackholeProxy proxy = BlackholeProxy.start(hub.address());
                RawHttp vanishing = RawHttp.get(proxy.address(), HubHandler.PATH + "?topic=t", "HTTP/1.1");
                RawHttp healthy = RawHttp.get(hub.address(), HubHandler.PATH + "?topic=t", "HTTP/1.1")) {
            assertThat(vanishing.statusLine).isEqualTo("HTTP/1.1 200 OK");
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(b.stats().connections()).as("subscribers").isEqualTo(2));
            proxy.blackhole();
            // every event the healthy subscriber gets: nothing missing, duplicated or stray; one permit per event read
            java.util.concurrent.Semaphore read = new java.util.concurrent.Semaphore(0);
            List<String> received = java.util.Collections.synchronizedList(new ArrayList<>());
            var reader = java.util.concurrent.CompletableFuture.runAsync(() -> {
                dev.ssekit.codec.SseParser parser = dev.ssekit.codec.SseParser.create(e -> {
                    received.add(e.data());
                    read.release();
                });
                try {
                    while (received.size() < 2000) {
                        parser.feed(healthy.readEvent().getBytes(UTF_8));
                    }
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }, command -> Thread.ofPlatform().start(command));
            String pad = "x".repeat(4000);
            List<String> sent = new ArrayList<>();
            int evictedAt = -1;
            for (int i = 0; i < 2000; i++) {
                b.publish(SseMessage.of(i + " " + pad), "t");
                sent.add(i + " " + pad);
                if (evictedAt < 0 && b.stats().connections() == 1) {
                    evictedAt = i;
                }
                if (i % 100 == 99) {
                    // in step with the healthy reader: at most 100 events (400 KB) queued for it, under its 1 MiB limit
                    assertThat(read.tryAcquire(100, 30, TimeUnit.SECONDS)).as("the healthy subscriber read events %d to %d", i - 99, i)
                            .isTrue();
                }
            }
            reader.get(30, TimeUnit.SECONDS);
            await().atMost(Duration.ofSeconds(30))
                    .untilAsserted(() -> assertThat(b.stats().connections()).as("the vanished subscriber is evicted").isEqualTo(1));
            // RELIABILITY.md: evicted as SLOW_CONSUMER once the socket buffers and its 1 MiB queue were full
            assertThat(b.stats().evictions()).as("evictions").containsEntry(CloseReason.SLOW_CONSUMER, 1L)
                    .containsEntry(CloseReason.WRITE_TIMEOUT, 0L);
            assertThat(b.stats().evictions().values().stream().mapToLong(Long::longValue).sum()).as("evictions in all").isEqualTo(1);
            assertThat(received).as("the healthy subscriber read all 2,000 events, in order").isEqualTo(sent);
            System.out.printf("vanished subscriber evicted at event %d of the burst (%s)%n", evictedAt, b.stats().evictions());
        }
    }

    @Test
    void tenThousandAbruptDisconnectsLeaveGaugesHeapThreadsAndFileDescriptorsAtTheirBaseline() throws Exception {
        HubProcess hub = HubProcess.start(dir.resolve("data"), new String(KEY, UTF_8), "--max-connections", "20000",
                "--metrics-token", "metrics-token");
        try {
            InetSocketAddress address = hub.address();
            // warm up (class loading, pools) with a first round, then take the baseline
            churn(address, hub.process().pid(), 500);
            Gauges baseline = gauges(address, hub.process().pid());
            churn(address, hub.process().pid(), 10_000);
            Gauges after = gauges(address, hub.process().pid());
            assertThat(after.connections()).isZero();
            assertThat(after.fds()).as("open files: baseline %s, after %s", baseline, after).isLessThanOrEqualTo(baseline.fds() + 5);
            assertThat(after.threads()).as("threads: baseline %s, after %s", baseline, after).isLessThanOrEqualTo(baseline.threads() + 2);
            // 2 MB is 200 bytes per disconnected subscriber, and a fraction of the baseline (about 7 MB)
            assertThat(after.heap()).as("heap after GC: baseline %s, after %s", baseline, after)
                    .isLessThanOrEqualTo(baseline.heap() + 2_000_000);
            System.out.println("10,000 abrupt disconnects: baseline " + baseline + ", after " + after);
        } finally {
            hub.process().destroyForcibly();
            hub.process().waitFor(10, TimeUnit.SECONDS);
        }
    }

    private record Gauges(long connections, long heap, long threads, long fds) {
    }

    /** Opens n subscribers (spread over source addresses), waits for all, then resets them all. */
    private static void churn(InetSocketAddress hub, long pid, int n) throws Exception {
        byte[] request = "GET /.well-known/mercure?topic=t HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(ISO_8859_1);
        List<SocketChannel> clients = new ArrayList<>(n);
        int octet = 1 + (int) (System.nanoTime() % 200);
        try {
            for (int i = 0; i < n; i++) {
                SocketChannel c = SocketChannel.open();
                c.setOption(StandardSocketOptions.SO_REUSEADDR, true);
                c.bind(new InetSocketAddress("127." + octet + "." + (i / 5000) + ".3", 0));
                c.connect(hub);
                c.write(ByteBuffer.wrap(request));
                clients.add(c);
            }
            await().atMost(Duration.ofSeconds(60))
                    .untilAsserted(() -> assertThat(gauges(hub, -1).connections()).as("subscribers").isEqualTo(n));
        } finally {
            for (SocketChannel c : clients) {
                c.setOption(StandardSocketOptions.SO_LINGER, 0); // a reset, no FIN
                c.close();
            }
        }
        await().atMost(Duration.ofSeconds(60))
                .untilAsserted(() -> assertThat(gauges(hub, -1).connections()).as("subscribers after the resets").isZero());
    }

    /** The hub's gauges; with a pid, after a full GC of the hub (jcmd). */
    private static Gauges gauges(InetSocketAddress hub, long pid) throws Exception {
        if (pid > 0) {
            new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(), Long.toString(pid), "GC.run")
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor(30, TimeUnit.SECONDS);
            Thread.sleep(500);
        }
        String m;
        try (var http = java.net.http.HttpClient.newHttpClient()) {
            m = http.send(java.net.http.HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + hub.getPort() + "/metrics"))
                    .header("Authorization", "Bearer metrics-token").build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString()).body();
        }
        return new Gauges(value(m, "ssekit_connections"), value(m, "jvm_memory_heap_used_bytes"), value(m, "jvm_threads_live"),
                value(m, "process_open_fds"));
    }

    private static long value(String metrics, String name) {
        return metrics.lines().filter(l -> l.startsWith(name + " ")).mapToLong(l -> Long.parseLong(l.substring(name.length() + 1)))
                .findFirst().orElseThrow(() -> new AssertionError(name + " missing from /metrics"));
    }
}
