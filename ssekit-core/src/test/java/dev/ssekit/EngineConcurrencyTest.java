package dev.ssekit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.ssekit.spi.EventLog;
import dev.ssekit.spi.StoredEvent;
import dev.ssekit.testkit.ManualScheduler;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The fan-out engine under concurrency (issue #27): each test reproduces one defect found by
 * review of commit 0d8133e. Delivery runs on a {@link StepLoop} (as on a Netty event loop, only
 * when the test says so) and time on a {@link ManualScheduler}; the one race that no step can
 * provoke (the topic index) is a stress loop bounded in count and time. Everything that waits
 * does so under a preemptive timeout: a regression fails, it does not hang the build.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class EngineConcurrencyTest {

    private final ManualScheduler clock = new ManualScheduler();

    private Broadcaster.Builder builder() {
        return Broadcaster.builder().scheduler(clock).ticker(clock);
    }

    private static String publish(Broadcaster b, String id, String topic) {
        return b.publish(SseMessage.builder().id(id).data(id).build(), topic);
    }

    private static LoopTransport subscriber(Broadcaster b, StepLoop loop, String topic) {
        LoopTransport t = new LoopTransport(loop);
        b.subscribe(Sse.open(t), topic);
        return t;
    }

    /** Waits (10 s at most) until {@code t} waits for room in a delivery group's inbox: parked in its offer. */
    private static void awaitWaitingForRoom(Thread t) {
        await("the publisher waiting for the full group").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(1))
                .until(() -> {
                    Thread.State s = t.getState();
                    return (s == Thread.State.WAITING || s == Thread.State.TIMED_WAITING) && Arrays.stream(t.getStackTrace())
                            .anyMatch(f -> f.getClassName().equals(DeliveryGroup.class.getName())
                                    && f.getMethodName().equals("offer"));
                });
    }

    /**
     * Waits (10 s at most) until the eviction, which closes the connection on a thread of its own,
     * closed {@code t}. (LoopTransport has no close signal to wait on; its flag is polled.)
     */
    private static void awaitEvicted(LoopTransport t) {
        await("evicted").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(5)).until(t::closed);
    }

    // 1. the topic index

    @Test
    void aSubscriberRacingTheLastCancelOfItsTopicStaysInTheIndex() throws Exception {
        try (Broadcaster b = builder().build()) {
            StepLoop loop = new StepLoop(); // never run: nothing is published, nothing written
            StoredEvent onT = new StoredEvent(1, "probe", Set.of("t"), new byte[0], 0, false);
            AtomicBoolean stop = new AtomicBoolean();
            // another connection subscribing to t and cancelling, over and over: it empties t's set
            Thread churn = Thread.ofPlatform().name("churn").start(() -> {
                while (!stop.get()) {
                    b.subscribe(Sse.open(new LoopTransport(loop)), "t").cancel();
                }
            });
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(4);
                for (int i = 0; i < 300_000 && System.nanoTime() < deadline; i++) {
                    Subscriber s = (Subscriber) b.subscribe(Sse.open(new LoopTransport(loop)), "t");
                    List<Subscriber> matched = new ArrayList<>();
                    s.group.index.forEachMatch(onT, matched::add);
                    assertThat(matched).as("subscribe #%d is registered but not matched by its topic", i).contains(s);
                    assertThat(s.group.index.isEmpty()).as("subscribe #%d: the group counts as empty", i).isFalse();
                    s.cancel();
                }
            } finally {
                stop.set(true);
                churn.join();
            }
        }
    }

    // 2. a replay longer than the queue's bound

    private static final String KB = "k".repeat(1000);

    /** 2,000 events of 1 KB: 2 MB, twice the default bound of a subscriber's queue. */
    private static List<String> publishThousands(Broadcaster b) {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            ids.add(b.publish(SseMessage.of(KB), "x"));
        }
        return ids;
    }

    private void resumesInFull(SlowConsumerPolicy policy) {
        try (Broadcaster b = builder().slowConsumerPolicy(policy).build()) {
            List<String> ids = publishThousands(b);
            StepLoop loop = new StepLoop();
            LoopTransport t = new LoopTransport(loop, ids.getFirst());
            b.subscribe(Sse.open(t), "x");
            publish(b, "live-1", "x"); // while the replay is under way: after it
            loop.runPending();
            publish(b, "live-2", "x");
            loop.runPending();
            List<String> expected = new ArrayList<>(ids.subList(1, ids.size()));
            expected.addAll(List.of("live-1", "live-2"));
            assertThat(t.closed()).as("evicted").isFalse();
            assertThat(t.ids()).containsExactlyElementsOf(expected);
            assertThat(b.stats().evictions().get(CloseReason.SLOW_CONSUMER)).isZero();
            assertThat(b.stats().dropped()).isZero();
        }
    }

    @Test
    void aResumeLongerThanTheQueueBoundCompletes() {
        resumesInFull(SlowConsumerPolicy.DISCONNECT);
    }

    @Test
    void aResumeLongerThanTheQueueBoundDropsNothingUnderDropOldest() {
        resumesInFull(SlowConsumerPolicy.DROP_OLDEST);
    }

    @Test
    void aResumeFromEarliestLongerThanTheQueueBoundCompletes() {
        try (Broadcaster b = builder().slowConsumerPolicy(SlowConsumerPolicy.DROP_OLDEST).build()) {
            List<String> ids = publishThousands(b);
            StepLoop loop = new StepLoop();
            LoopTransport t = new LoopTransport(loop);
            b.subscription(Sse.open(t)).topics(TopicSelector.exact("x")).resumeFrom(Broadcaster.EARLIEST).start();
            loop.runPending();
            assertThat(t.ids()).containsExactlyElementsOf(ids);
        }
    }

    @Test
    void aResumeFromAnExpiredIdLongerThanTheQueueBoundCompletesAfterItsReset() {
        try (Broadcaster b = builder().history(1500, 64L << 20, Duration.ofHours(1)).build()) {
            List<String> ids = publishThousands(b);
            StepLoop loop = new StepLoop();
            LoopTransport t = new LoopTransport(loop, ids.getFirst()); // expired: history holds the last 1,500
            b.subscribe(Sse.open(t), "x");
            loop.runPending();
            assertThat(t.closed()).as("evicted").isFalse();
            assertThat(t.events()).startsWith("reset");
            assertThat(t.text()).contains("\"reason\":\"expired\"");
            assertThat(t.ids()).containsExactlyElementsOf(ids.subList(500, 2000));
        }
    }

    /** History of 100 events; a chunk of the replay is 4 KiB (half the bound): about 4 events. */
    private Broadcaster overtaken(SlowConsumerPolicy policy, List<String> ids, LoopTransport t) {
        Broadcaster b = builder().history(100, 64L << 20, Duration.ofHours(1)).maxQueuedBytes(8 * 1024)
                .slowConsumerPolicy(policy).build();
        for (int i = 0; i < 100; i++) {
            ids.add(b.publish(SseMessage.of(KB), "x"));
        }
        b.subscription(Sse.open(t)).topics(TopicSelector.exact("x")).resumeFrom(ids.getFirst()).start();
        for (int i = 0; i < 300; i++) { // before its first write: history now holds the last 100 of them only
            ids.add(b.publish(SseMessage.of(KB), "x"));
        }
        return b;
    }

    @Test
    void aReplayOvertakenByHistoryIsASlowConsumer() throws InterruptedException {
        StepLoop loop = new StepLoop();
        LoopTransport t = new LoopTransport(loop);
        List<String> ids = new ArrayList<>();
        try (Broadcaster b = overtaken(SlowConsumerPolicy.DISCONNECT, ids, t)) {
            loop.runPending();
            assertThat(b.stats().evictions().get(CloseReason.SLOW_CONSUMER)).isEqualTo(1);
            awaitEvicted(t);
            // what it got has no gap: the plan's history from its start (what was queued at the
            // eviction went with it), nothing after it
            List<String> got = t.ids();
            assertThat(got).isNotEmpty().hasSizeLessThanOrEqualTo(99);
            assertThat(got).containsExactlyElementsOf(ids.subList(1, 1 + got.size()));
        }
    }

    @Test
    void aReplayOvertakenByHistoryIsToldUnderDropOldest() {
        StepLoop loop = new StepLoop();
        LoopTransport t = new LoopTransport(loop);
        List<String> ids = new ArrayList<>();
        try (Broadcaster b = overtaken(SlowConsumerPolicy.DROP_OLDEST, ids, t)) {
            loop.runPending();
            assertThat(t.closed()).as("evicted").isFalse();
            assertThat(b.stats().evictions().get(CloseReason.SLOW_CONSUMER)).isZero();
            // the plan's history whole, then the notice of what history lost meanwhile, then what it holds
            List<String> expected = new ArrayList<>(ids.subList(1, 100));
            expected.addAll(ids.subList(300, 400));
            assertThat(t.ids()).containsExactlyElementsOf(expected);
            assertThat(t.events()).containsExactly("reset");
            assertThat(t.text()).contains("{\"lastEventId\":\"" + ids.get(99) + "\",\"reason\":\"expired\"}");
            String text = t.text();
            assertThat(text.indexOf("event: reset")).isBetween(text.indexOf("id: " + ids.get(99) + "\n"),
                    text.indexOf("id: " + ids.get(300) + "\n"));
        }
    }

    // finding 2 of the model check (MODEL-FINDINGS.md): history expiring, by age, events a paced
    // replay has not read yet, including live events offered (and ignored) while it replays

    /**
     * History of 10 s; a subscriber resumes from e0 and its replay (e1) is being written when e2 is
     * published and offered to it; then history expires everything before the write completes. A
     * chunk of the replay is 10 bytes (half the bound): one event.
     */
    private Broadcaster expiredUnderAReplay(SlowConsumerPolicy policy, StepLoop loop, LoopTransport t) {
        Broadcaster b = builder().history(100, 64L << 20, Duration.ofSeconds(10)).maxQueuedBytes(20)
                .slowConsumerPolicy(policy).build();
        publish(b, "e0", "x");
        publish(b, "e1", "x");
        t.hold();
        b.subscription(Sse.open(t)).topics(TopicSelector.exact("x")).resumeFrom("e0").start();
        loop.runPending(); // e1 written, not yet acknowledged: the replay goes on
        publish(b, "e2", "x");
        loop.runPending(); // e2 offered live, ignored: the replay reads it from the log
        clock.advance(Duration.ofSeconds(11)); // history expires e0, e1, e2
        t.release();
        loop.runPending();
        return b;
    }

    @Test
    void liveEventsExpiredUnderAReplayAreToldUnderDropOldest() {
        StepLoop loop = new StepLoop();
        LoopTransport t = new LoopTransport(loop);
        try (Broadcaster b = expiredUnderAReplay(SlowConsumerPolicy.DROP_OLDEST, loop, t)) {
            publish(b, "e3", "x");
            loop.runPending();
            assertThat(t.ids()).containsExactly("e1", "e3");
            assertThat(t.events()).as("the loss of e2 is told").containsExactly("reset");
            assertThat(t.text()).contains("{\"lastEventId\":\"e1\",\"reason\":\"expired\"}");
            String text = t.text();
            assertThat(text.indexOf("event: reset")).isBetween(text.indexOf("id: e1\n"), text.indexOf("id: e3\n"));
            assertThat(t.closed()).isFalse();
        }
    }

    @Test
    void liveEventsExpiredUnderAReplayAreASlowConsumer() throws InterruptedException {
        StepLoop loop = new StepLoop();
        LoopTransport t = new LoopTransport(loop);
        try (Broadcaster b = expiredUnderAReplay(SlowConsumerPolicy.DISCONNECT, loop, t)) {
            assertThat(b.stats().evictions().get(CloseReason.SLOW_CONSUMER)).isEqualTo(1);
            awaitEvicted(t);
            assertThat(t.ids()).containsExactly("e1");
        }
    }

    @Test
    void aGapAfterAnUnknownIdsResetIsTold() {
        // an unknown id: a reset notice first, no resume point (no cursor id); e2 and e3 are offered
        // while the notice is being written, and history expires e2 (not e3) before it completes
        try (Broadcaster b = builder().history(100, 64L << 20, Duration.ofSeconds(10))
                .slowConsumerPolicy(SlowConsumerPolicy.DROP_OLDEST).build()) {
            publish(b, "e1", "x");
            StepLoop loop = new StepLoop();
            LoopTransport t = new LoopTransport(loop, "elsewhere-7");
            t.hold();
            b.subscribe(Sse.open(t), "x");
            loop.runPending(); // the reset notice written, not yet acknowledged
            publish(b, "e2", "x");
            clock.advance(Duration.ofSeconds(6));
            publish(b, "e3", "x");
            loop.runPending(); // e2, e3 offered live, ignored: the replay reads them from the log
            clock.advance(Duration.ofSeconds(5)); // e2 expires
            t.release();
            loop.runPending();
            publish(b, "e4", "x");
            loop.runPending();
            assertThat(t.ids()).containsExactly("e3", "e4");
            assertThat(t.events()).containsExactly("reset", "reset");
            assertThat(t.text()).contains("{\"lastEventId\":\"elsewhere-7\",\"reason\":\"unknown\"}")
                    .contains("{\"lastEventId\":\"elsewhere-7\",\"reason\":\"expired\"}");
            String text = t.text();
            assertThat(text.indexOf("\"expired\"")).isLessThan(text.indexOf("id: e3\n"));
        }
    }

    // 3. close() and a stalled group

    @Test
    void closeDoesNotWaitForAGroupAPublisherWaitsFor() throws Exception {
        Broadcaster b = builder().deliveryBacklog(1).build();
        StepLoop loop = new StepLoop();
        LoopTransport t = subscriber(b, loop, "x");
        publish(b, "e0", "x");
        loop.runPending(); // the group has run on this thread, as on its event loop
        publish(b, "e1", "x"); // its inbox is full
        Thread publisher = Thread.ofPlatform().start(() -> publish(b, "e2", "x"));
        awaitWaitingForRoom(publisher); // holding the log's append lock
        assertTimeoutPreemptively(Duration.ofSeconds(10), b::close, "close() waited for the stalled group");
        publisher.join(10_000);
        assertThat(publisher.isAlive()).as("the publisher still waits").isFalse();
        loop.runPending();
        assertThat(t.ids()).containsExactly("e0", "e1");
        assertThat(t.events()).containsExactly("shutdown");
    }

    @Test
    void closeOnTheStalledGroupsOwnThreadDoesNotDeadlock() throws Exception {
        Broadcaster b = builder().deliveryBacklog(1).build();
        StepLoop loop = new StepLoop();
        LoopTransport t = subscriber(b, loop, "x");
        publish(b, "e0", "x");
        loop.runPending();
        loop.execute(b::close); // a shutdown handler on the event loop, ahead of the group's next run
        publish(b, "e1", "x"); // the inbox is full
        Thread publisher = Thread.ofPlatform().start(() -> publish(b, "e2", "x"));
        awaitWaitingForRoom(publisher);
        assertTimeoutPreemptively(Duration.ofSeconds(10), loop::runPending, "close() on the loop deadlocked");
        publisher.join(10_000);
        assertThat(publisher.isAlive()).as("the publisher still waits").isFalse();
        loop.runPending();
        assertThat(t.ids()).containsExactly("e0", "e1");
        assertThat(t.events()).containsExactly("shutdown");
    }

    // 5. resume planning against appends

    /**
     * The in-memory log, with a hook that runs once at the start of the next {@link #after} read:
     * there a test publishes, as a concurrent publisher would between the two reads of a resume.
     * Every call goes to the real log.
     */
    private static final class InterleavedLog implements EventLog {
        private final EventLog log;
        private volatile Runnable beforeNextRead;

        InterleavedLog(EventLog log) {
            this.log = log;
        }

        @Override
        public String epoch() {
            return log.epoch();
        }

        @Override
        public long lastSequence() {
            return log.lastSequence();
        }

        @Override
        public Optional<StoredEvent> oldest() {
            return log.oldest();
        }

        @Override
        public OptionalLong sequenceOf(String id) {
            return log.sequenceOf(id);
        }

        @Override
        public List<StoredEvent> after(long sequence) {
            Runnable r = beforeNextRead;
            if (r != null) {
                beforeNextRead = null;
                r.run();
            }
            return log.after(sequence);
        }

        @Override
        public long size() {
            return log.size();
        }

        @Override
        public long bytes() {
            return log.bytes();
        }

        @Override
        public CompletionStage<StoredEvent> append(SseMessage message, Set<String> topics, boolean restricted) {
            return log.append(message, topics, restricted);
        }

        @Override
        public void follow(Consumer<StoredEvent> follower) {
            log.follow(follower);
        }

        @Override
        public void close() {
            log.close();
        }
    }

    @Test
    void aResumeRacingPublishesIsToldOfTheGapItCannotReplay() {
        InterleavedLog log = new InterleavedLog(EventLog.inMemory(3, 1L << 20, Duration.ofHours(1), clock));
        try (log; Broadcaster b = builder().log(log).build()) {
            StepLoop loop = new StepLoop();
            for (int i = 1; i <= 3; i++) {
                publish(b, "e" + i, "x");
            }
            log.beforeNextRead = () -> {
                for (int i = 4; i <= 8; i++) {
                    publish(b, "e" + i, "x"); // history of 3: e2's successors e3, e4, e5 leave it
                }
            };
            LoopTransport t = new LoopTransport(loop, "e2");
            b.subscribe(Sse.open(t), "x");
            loop.runPending();
            List<String> ids = t.ids();
            boolean told = t.events().contains("reset");
            assertThat(told || ids.equals(List.of("e3", "e4", "e5", "e6", "e7", "e8")))
                    .as("resumed from e2 without a reset, got %s", ids).isTrue();
            assertThat(ids).as("after the reset").containsExactly("e6", "e7", "e8");
        }
    }

    // 6. an interrupted publisher

    @Test
    void anInterruptedPublisherStillDeliversItsBatchAndKeepsTheInterrupt() throws Exception {
        try (Broadcaster b = builder().deliveryBacklog(1).build()) {
            StepLoop loop = new StepLoop();
            LoopTransport t = subscriber(b, loop, "x");
            publish(b, "e0", "x");
            loop.runPending();
            publish(b, "e1", "x"); // the inbox is full
            AtomicBoolean interruptKept = new AtomicBoolean();
            Thread publisher = Thread.ofPlatform().start(() -> {
                publish(b, "e2", "x");
                interruptKept.set(Thread.currentThread().isInterrupted());
            });
            awaitWaitingForRoom(publisher);
            // two more publishes queue behind it: its thread leads their batch next
            CompletionStage<String> e3 = b.publishAsync(SseMessage.builder().id("e3").data("e3").build(), Set.of("x"), false);
            CompletionStage<String> e4 = b.publishAsync(SseMessage.builder().id("e4").data("e4").build(), Set.of("x"), false);
            publisher.interrupt();
            for (int i = 0; i < 10_000 && publisher.isAlive(); i++) {
                loop.runPending();
                publisher.join(1);
            }
            assertThat(publisher.isAlive()).as("the publisher still waits").isFalse();
            loop.runPending();
            assertThat(e3.toCompletableFuture().join()).isEqualTo("e3");
            assertThat(e4.toCompletableFuture().join()).isEqualTo("e4");
            assertThat(t.ids()).containsExactly("e0", "e1", "e2", "e3", "e4");
            assertThat(interruptKept).as("the publisher's interrupt is kept for it").isTrue();
        }
    }

    // 8. publishing on a group's own thread before its first run

    @Test
    void publishingOnTheGroupsThreadBeforeItsFirstRunDoesNotWaitForItself() {
        try (Broadcaster b = builder().build()) {
            StepLoop loop = new StepLoop();
            LoopTransport t = new LoopTransport(loop);
            List<CompletionStage<String>> stored = new ArrayList<>();
            loop.execute(() -> { // a handler on the event loop: subscribes its connection, then publishes
                b.subscribe(Sse.open(t), "x");
                for (int i = 0; i < 3; i++) { // 200 KB each: the group's inbox (256 KiB) is full after two
                    stored.add(b.publishAsync(SseMessage.builder().id("big" + i).data("k".repeat(200_000)).build(),
                            Set.of("x"), false));
                }
            });
            assertTimeoutPreemptively(Duration.ofSeconds(20), loop::runPending, "the loop waited for itself");
            assertThat(stored).hasSize(3).allMatch(s -> s.toCompletableFuture().isDone());
            assertThat(t.ids()).containsExactly("big0", "big1", "big2");
        }
    }

    @Test
    void publishingOnOneGroupsThreadNeverWaitsForAnotherGroup() throws Exception {
        try (Broadcaster b = builder().deliveryBacklog(1).build()) {
            StepLoop loopA = new StepLoop();
            StepLoop loopB = new StepLoop();
            LoopTransport onA = subscriber(b, loopA, "x");
            LoopTransport onB = subscriber(b, loopB, "x");
            publish(b, "e0", "x");
            Thread threadA = Thread.ofPlatform().name("loop-a").start(loopA::runPending); // A's thread is known
            threadA.join();
            loopB.runPending(); // B's thread (this one) too
            publish(b, "e1", "x"); // both inboxes are full
            loopA.execute(() -> publish(b, "e2", "x")); // a handler on loop A publishes; B is behind
            threadA = Thread.ofPlatform().name("loop-a").start(loopA::runPending);
            threadA.join(20_000);
            assertThat(threadA.isAlive()).as("loop A waits for group B").isFalse();
            loopA.runPending();
            loopB.runPending();
            assertThat(onA.ids()).containsExactly("e0", "e1", "e2");
            assertThat(onB.ids()).containsExactly("e0", "e1", "e2");
        }
    }

    // 9. cancel and resubscribe

    @Test
    void cancellingRemovesEverythingTheSubscriptionRegistered() throws Exception {
        try (Broadcaster b = builder().build()) {
            StepLoop loop = new StepLoop();
            LoopTransport t = new LoopTransport(loop);
            SseConnection c = Sse.open(t);
            Subscription first = b.subscribe(c, "x");
            ReferenceQueue<Subscription> collected = new ReferenceQueue<>();
            WeakReference<Subscription> cancelled = new WeakReference<>(first, collected);
            first.cancel();
            first = null;
            assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
                for (int i = 0; i < 200_000; i++) {
                    b.subscribe(c, "x").cancel();
                }
            }, "200,000 cancel/resubscribe cycles");
            // the collector enqueues the reference once it cleared it: the signal, 50 collections at most
            Reference<?> cleared = null;
            for (int i = 0; i < 50 && cleared == null; i++) {
                System.gc();
                cleared = collected.remove(10);
            }
            assertThat(cleared).as("a cancelled subscription is still reachable").isSameAs(cancelled);
            // the connection still works, and its close still unsubscribes it
            b.subscribe(c, "x");
            publish(b, "e1", "x");
            loop.runPending();
            assertThat(t.ids()).containsExactly("e1");
            c.close();
            assertThat(b.stats().connections()).isZero();
        }
    }
}
