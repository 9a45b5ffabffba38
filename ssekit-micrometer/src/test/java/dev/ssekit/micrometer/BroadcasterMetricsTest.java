package dev.ssekit.micrometer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.ssekit.Broadcaster;
import dev.ssekit.SlowConsumerPolicy;
import dev.ssekit.Sse;
import dev.ssekit.codec.SseEvent;
import dev.ssekit.SseMessage;
import dev.ssekit.testkit.RawHttp;
import dev.ssekit.testkit.StuckWrites;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The meters over a real broadcaster whose subscribers are real HTTP connections to the JDK server. */
@Timeout(120)
class BroadcasterMetricsTest {

    private final List<AutoCloseable> resources = new ArrayList<>();
    private final MeterRegistry registry = new SimpleMeterRegistry();

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : resources.reversed()) {
            c.close();
        }
    }

    private <T extends AutoCloseable> T closing(T resource) {
        resources.add(resource);
        return resource;
    }

    /** {@code GET /sse} subscribes to topic {@code t}, on the JDK server with a virtual thread per exchange. */
    private InetSocketAddress serve(Broadcaster hub) {
        HttpServer server;
        try {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ExecutorService executor = closing(Executors.newVirtualThreadPerTaskExecutor());
        server.setExecutor(executor);
        server.createContext("/sse", exchange -> hub.subscribe(Sse.start(exchange), "t"));
        server.start();
        closing(() -> server.stop(0));
        return server.getAddress();
    }

    private double gauge(String name) {
        return registry.get(name).gauge().value();
    }

    private double counter(String name) {
        return registry.get(name).functionCounter().count();
    }

    @Test
    void metersFollowSubscribersPublishesDeliveriesAndHistory() throws Exception {
        Broadcaster hub = closing(Broadcaster.create());
        new BroadcasterMetrics(hub, Tags.of("broadcaster", "prices")).bindTo(registry);
        InetSocketAddress address = serve(hub);

        assertThat(gauge("ssekit.connections")).isZero();
        RawHttp a = closing(RawHttp.get(address, "/sse", "HTTP/1.1"));
        RawHttp b = closing(RawHttp.get(address, "/sse", "HTTP/1.1"));
        await().atMost(Duration.ofSeconds(20)).until(() -> gauge("ssekit.connections") == 2);

        for (int i = 0; i < 3; i++) {
            hub.publish(SseMessage.of("p" + i), "t");
        }
        assertThat(a.events(3).stream().map(SseEvent::data)).containsExactly("p0", "p1", "p2");
        assertThat(b.events(3).stream().map(SseEvent::data)).containsExactly("p0", "p1", "p2");
        assertThat(counter("ssekit.events.published")).isEqualTo(3);
        // a delivery is counted once its write returned; the client may have read it a moment before
        await().atMost(Duration.ofSeconds(20)).until(() -> counter("ssekit.events.delivered") == 6);
        assertThat(gauge("ssekit.history.size")).isEqualTo(3);
        assertThat(gauge("ssekit.history.data.size")).isEqualTo(hub.stats().historyBytes()).isPositive();
        assertThat(gauge("ssekit.queued")).isZero();
        assertThat(gauge("ssekit.delivery.backlog")).isZero();
        assertThat(counter("ssekit.events.dropped")).isZero();
        assertThat(registry.get("ssekit.evictions").functionCounters()).hasSize(2)
                .allSatisfy(c -> assertThat(c.count()).isZero());

        // every meter carries the tag, in the registry's base units
        List<Meter> meters = registry.getMeters();
        assertThat(meters).extracting(m -> m.getId().getName()).containsExactlyInAnyOrder("ssekit.connections",
                "ssekit.events.published", "ssekit.events.delivered", "ssekit.events.dropped", "ssekit.evictions",
                "ssekit.evictions", "ssekit.queued", "ssekit.delivery.backlog", "ssekit.history.size", "ssekit.history.data.size");
        assertThat(meters).allSatisfy(m -> assertThat(m.getId().getTag("broadcaster")).isEqualTo("prices"));
        assertThat(meters.stream().collect(Collectors.toMap(m -> m.getId().getName() + m.getId().getTags(),
                m -> String.valueOf(m.getId().getBaseUnit())))).containsValues("connections", "events", "bytes");
        assertThat(registry.get("ssekit.queued").gauge().getId().getBaseUnit()).isEqualTo("bytes");
        assertThat(registry.get("ssekit.events.published").functionCounter().getId().getBaseUnit()).isEqualTo("events");

        // shutdown: each subscriber gets the final event and leaves
        hub.close();
        assertThat(a.events(1).getFirst().type()).isEqualTo("shutdown");
        await().atMost(Duration.ofSeconds(20)).until(() -> gauge("ssekit.connections") == 0);
    }

    @Test
    void aSlowConsumerEvictionIsCountedByReason() throws Exception {
        Broadcaster hub = closing(Broadcaster.builder().maxQueuedBytes(2L << 20).build());
        new BroadcasterMetrics(hub).bindTo(registry);
        InetSocketAddress address = serve(hub);
        RawHttp idle = closing(RawHttp.get(address, "/sse", "HTTP/1.1")); // never reads its body
        await().atMost(Duration.ofSeconds(20)).until(() -> gauge("ssekit.connections") == 1);
        // what the kernel cannot take stays queued: at least 3 MiB of 1 MiB events, over the 2 MiB bound
        StuckWrites.publishUntilStuck(hub, "t", idle.socket);
        await().atMost(Duration.ofSeconds(30)).until(() -> registry.get("ssekit.evictions")
                .tag("reason", "slow_consumer").functionCounter().count() == 1);
        assertThat(registry.get("ssekit.evictions").tag("reason", "write_timeout").functionCounter().count()).isZero();
        await().atMost(Duration.ofSeconds(20)).until(() -> gauge("ssekit.connections") == 0);
        assertThat(counter("ssekit.events.published")).isEqualTo(hub.stats().published()).isGreaterThan(3);
    }

    @Test
    void dropOldestCountsDroppedEventsAndKeepsTheSubscriber() throws Exception {
        Broadcaster hub = closing(Broadcaster.builder().maxQueuedBytes(2L << 20)
                .slowConsumerPolicy(SlowConsumerPolicy.DROP_OLDEST).build());
        new BroadcasterMetrics(hub).bindTo(registry);
        InetSocketAddress address = serve(hub);
        RawHttp idle = closing(RawHttp.get(address, "/sse", "HTTP/1.1"));
        await().atMost(Duration.ofSeconds(20)).until(() -> gauge("ssekit.connections") == 1);
        StuckWrites.publishUntilStuck(hub, "t", idle.socket);
        await().atMost(Duration.ofSeconds(30)).until(() -> counter("ssekit.events.dropped") > 0);
        assertThat(gauge("ssekit.connections")).isEqualTo(1);
        // the stuck write holds the batch it took; an event published behind it waits in the queue
        // (delivery runs on the group's thread: the writer may take one more before it is stuck)
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            hub.publish(dev.ssekit.SseMessage.of("behind the stuck write"), "t");
            return gauge("ssekit.queued") > 0;
        });
        assertThat(registry.get("ssekit.evictions").functionCounters()).allSatisfy(c -> assertThat(c.count()).isZero());
    }

    @Test
    void aWriteThatNeverEndsIsCountedAsAWriteTimeoutEviction() throws Exception {
        // the queue bound exceeds what is published, so only the write deadline can evict
        Broadcaster hub = closing(Broadcaster.builder().maxQueuedBytes(1L << 30).writeTimeout(Duration.ofMillis(500))
                .history(100, 1L << 30, Duration.ofHours(1)).build());
        new BroadcasterMetrics(hub).bindTo(registry);
        InetSocketAddress address = serve(hub);
        RawHttp idle = closing(RawHttp.get(address, "/sse", "HTTP/1.1"));
        await().atMost(Duration.ofSeconds(20)).until(() -> gauge("ssekit.connections") == 1);
        StuckWrites.publishUntilStuck(hub, "t", idle.socket);
        await().atMost(Duration.ofSeconds(30)).until(() -> registry.get("ssekit.evictions")
                .tag("reason", "write_timeout").functionCounter().count() == 1);
        assertThat(gauge("ssekit.connections")).isZero();
    }

    @Test
    void argumentsAreChecked() {
        assertThatThrownBy(() -> new BroadcasterMetrics(null)).isInstanceOf(NullPointerException.class)
                .hasMessage("broadcaster");
        try (Broadcaster hub = Broadcaster.create()) {
            assertThatThrownBy(() -> new BroadcasterMetrics(hub, null)).hasMessage("tags");
            assertThatThrownBy(() -> new BroadcasterMetrics(hub).bindTo(null)).hasMessage("registry");
        }
    }
}
