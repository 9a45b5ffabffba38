package dev.ssekit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ssekit.spi.SseTransport;
import java.io.ByteArrayOutputStream;
import java.util.Optional;
import java.util.concurrent.Executor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A delivery group's inbox bound, driven step by step: the subscriber's transport names an
 * executor that runs the group only when the test says so (as a Netty event loop would run it), so
 * what waits in the inbox is exact. No sleeps, no timing.
 */
@Timeout(30)
class DeliveryBacklogTest {

    /** Keeps what is written; its broadcaster delivers on {@code executor}. */
    private static final class StepTransport implements SseTransport {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private final Executor executor;

        StepTransport(Executor executor) {
            this.executor = executor;
        }

        @Override
        public synchronized void write(byte[] bytes) {
            out.writeBytes(bytes);
        }

        @Override
        public Executor deliveryExecutor() {
            return executor;
        }

        @Override
        public void close() {
        }

        @Override
        public Optional<String> lastEventId() {
            return Optional.empty();
        }
    }

    @Test
    void theInboxBoundCountsOnlyTheEventsStillWaiting() {
        // a subscriber's bound of 64 KiB: a group's inbox is full at 16 KiB of waiting events
        try (Broadcaster b = Broadcaster.builder().maxQueuedBytes(64 * 1024).build()) {
            StepLoop loop = new StepLoop();
            b.subscribe(Sse.open(new StepTransport(loop)), "x");
            String kib = "k".repeat(1100); // a frame of about 1.1 KB
            for (int i = 0; i < 10; i++) {
                b.publish(SseMessage.of(kib), "x");
            }
            assertThat(b.stats().backlog()).isEqualTo(10);
            assertThat(b.isBacklogged()).isFalse();
            loop.runPending(); // the group takes them all
            assertThat(b.stats().backlog()).isZero();
            // the same again: what the group took no longer counts against the bound
            for (int i = 0; i < 10; i++) {
                b.publish(SseMessage.of(kib), "x");
            }
            assertThat(b.stats().backlog()).as("all ten wait: 11 KB is under the 16 KiB bound").isEqualTo(10);
            assertThat(b.isBacklogged()).isFalse();
            for (int i = 0; i < 5; i++) {
                b.publish(SseMessage.of(kib), "x");
            }
            // (the next publish would run the group itself: this thread ran it last, as an event loop would)
            assertThat(b.isBacklogged()).as("16.9 KB waiting: at the bound").isTrue();
            assertThat(b.stats().backlog()).isEqualTo(15);
            loop.runPending();
            assertThat(b.isBacklogged()).isFalse();
            assertThat(b.stats().backlog()).isZero();
        }
    }
}
