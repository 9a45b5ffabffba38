package dev.ssekit.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ssekit.SseConnection;
import dev.ssekit.SseMessage;
import dev.ssekit.testkit.ManualScheduler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGeneratorFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * 1,000 real clients on one real server; the server drops every stream at once (a restart). The
 * reconnect delays the clients ask for must spread evenly over the window above the reconnection
 * time (10 s here, so [10 s, 20 s]) instead of piling up.
 */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ReconnectStormTest {

    static final int CLIENTS = 1000;

    @Test
    void thousandClientsSpreadTheirReconnectsOverTheWindow() throws Exception {
        ConcurrentLinkedQueue<SseConnection> open = new ConcurrentLinkedQueue<>();
        CountDownLatch allOpen = new CountDownLatch(CLIENTS);
        ManualScheduler time = new ManualScheduler();
        List<EventSource> sources = new ArrayList<>();
        try (SsekitServer server = new SsekitServer(conn -> {
            conn.send(SseMessage.builder().id("1").data("hello").build());
            open.add(conn);
        })) {
            CountDownLatch allFailed = new CountDownLatch(CLIENTS);
            for (int i = 0; i < CLIENTS; i++) {
                EventSource s = EventSource.builder(server.uri()).scheduler(time).ticker(time).readTimeout(Duration.ZERO)
                        .retryPolicy(RetryPolicy.builder().initialDelay(Duration.ofSeconds(10)).build())
                        .random(RandomGeneratorFactory.of("L64X128MixRandom").create(i))
                        .build();
                sources.add(s);
                s.start(new EventSourceListener() {
                    @Override
                    public void onEvent(dev.ssekit.codec.SseEvent event) {
                        allOpen.countDown();
                    }

                    @Override
                    public void onError(StreamException error) {
                        allFailed.countDown();
                    }

                    @Override
                    public void onClosed(java.util.Optional<StreamException> failure) {
                    }
                });
            }
            assertThat(allOpen.await(60, TimeUnit.SECONDS)).as("all clients connected").isTrue();
            open.forEach(SseConnection::close); // the "restart"
            assertThat(allFailed.await(60, TimeUnit.SECONDS)).as("all clients saw the stream end").isTrue();

            int[] buckets = new int[10];
            for (int i = 0; i < CLIENTS; i++) {
                Duration d = time.nextDelay();
                assertThat(d).isBetween(Duration.ofSeconds(10), Duration.ofSeconds(20)); // never below the floor
                buckets[(int) Math.min(9, d.minusSeconds(10).toMillis() / 1000)]++;
            }
            // uniform over 10 s: ~100 per second; no second of the window gets a storm
            for (int b : buckets) {
                assertThat(b).as("reconnects per 1 s of the 10 s window above the floor: %s", java.util.Arrays.toString(buckets))
                        .isBetween(60, 140);
            }
        } finally {
            sources.forEach(EventSource::close);
        }
    }
}
