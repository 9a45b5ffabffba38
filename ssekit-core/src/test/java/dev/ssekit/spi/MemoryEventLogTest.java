package dev.ssekit.spi;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ssekit.Broadcaster;
import dev.ssekit.SseMessage;
import dev.ssekit.testkit.ManualScheduler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class MemoryEventLogTest {

    private final ManualScheduler time = new ManualScheduler();

    @Test
    void theLogNumbersIdsAndEncodesOnce() throws Exception {
        EventLog log = EventLog.inMemory(10, 1 << 20, Duration.ofHours(1), time);
        StoredEvent first = log.append(SseMessage.builder().event("e").data("one").build(), Set.of("a", "b"), true)
                .toCompletableFuture().get();
        assertThat(first.sequence()).isEqualTo(1);
        assertThat(first.id()).isEqualTo(log.epoch() + "-1");
        assertThat(first.topics()).containsExactlyInAnyOrder("a", "b");
        assertThat(first.restricted()).isTrue();
        assertThat(new String(first.frame(), UTF_8)).isEqualTo("id: " + log.epoch() + "-1\nevent: e\ndata: one\n\n");
        StoredEvent own = log.append(SseMessage.builder().id("mine").data("two").build(), Set.of("a"), false)
                .toCompletableFuture().get();
        assertThat(own.id()).isEqualTo("mine");
        assertThat(own.sequence()).isEqualTo(2);
        assertThat(log.sequenceOf("mine")).hasValue(2);
        assertThat(log.lastSequence()).isEqualTo(2);
        assertThat(log.oldest()).contains(first);
        assertThat(log.after(1)).containsExactly(own);
        assertThat(log.caughtUp().toCompletableFuture()).isCompleted();
        log.close();
    }

    /**
     * A repeated id resolves to its earliest retained event (Mercure 1.0 L949-952), also once the earliest ones are
     * evicted. Before issue #24 it resolved to the latest: a subscriber resuming from it missed what came between.
     */
    @Test
    void aRepeatedIdIsItsEarliestRetainedEvent() throws Exception {
        EventLog log = EventLog.inMemory(3, 1 << 20, Duration.ofHours(1), time);
        for (String id : List.of("dup", "mid", "dup", "other", "dup")) {
            log.append(SseMessage.builder().id(id).data(id).build(), Set.of("a"), false).toCompletableFuture().get();
        }
        // retained: 3 dup, 4 other, 5 dup
        assertThat(log.sequenceOf("dup")).hasValue(3);
        log.append(SseMessage.builder().id("x").data("x").build(), Set.of("a"), false).toCompletableFuture().get();
        assertThat(log.sequenceOf("dup")).as("the earliest evicted: the next one").hasValue(5);
        log.append(SseMessage.builder().id("y").data("y").build(), Set.of("a"), false).toCompletableFuture().get();
        log.append(SseMessage.builder().id("z").data("z").build(), Set.of("a"), false).toCompletableFuture().get();
        assertThat(log.sequenceOf("dup")).as("all evicted").isEmpty();
        assertThat(log.sequenceOf("z")).hasValue(8);
        log.close();
    }

    /** Reads answer while an append holds the append path (its follower is stuck). */
    @Test
    void readsNeverWaitForTheAppendPath() throws Exception {
        EventLog log = EventLog.inMemory(10, 1 << 20, Duration.ofHours(1), time);
        CountDownLatch inFollower = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        log.follow(e -> {
            if (e.sequence() == 2) {
                inFollower.countDown();
                try {
                    release.await();
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        log.append(SseMessage.of("one"), Set.of("t"), false).toCompletableFuture().get();
        CompletableFuture<CompletionStage<StoredEvent>> held = CompletableFuture.supplyAsync(
                () -> log.append(SseMessage.of("two"), Set.of("t"), false), r -> Thread.ofVirtual().start(r));
        assertThat(inFollower.await(10, TimeUnit.SECONDS)).isTrue();
        CompletableFuture<List<Object>> reads = CompletableFuture.supplyAsync(() -> List.of(log.lastSequence(), log.after(0).size(),
                log.sequenceOf(log.epoch() + "-1").getAsLong(), log.size(), log.oldest().orElseThrow().sequence()),
                r -> Thread.ofVirtual().start(r));
        assertThat(reads.get(5, TimeUnit.SECONDS)).containsExactly(2L, 2, 1L, 2L, 1L);
        // another append meanwhile queues behind the leader and returns at once
        CompletionStage<StoredEvent> third = CompletableFuture.supplyAsync(() -> log.append(SseMessage.of("three"), Set.of("t"), false),
                r -> Thread.ofVirtual().start(r)).get(5, TimeUnit.SECONDS);
        assertThat(third.toCompletableFuture()).isNotDone();
        release.countDown();
        assertThat(third.toCompletableFuture().get(5, TimeUnit.SECONDS).sequence()).isEqualTo(3);
        assertThat(held.get(5, TimeUnit.SECONDS).toCompletableFuture().get(5, TimeUnit.SECONDS).sequence()).isEqualTo(2);
        log.close();
    }

    @Test
    void concurrentAppendsAreGaplessAndFollowedInOrderOneAtATime() throws Exception {
        EventLog log = EventLog.inMemory(100_000, 64 << 20, Duration.ofHours(1), time);
        List<Long> followed = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger inside = new AtomicInteger();
        AtomicBoolean overlapped = new AtomicBoolean();
        log.follow(e -> {
            if (inside.incrementAndGet() > 1) {
                overlapped.set(true);
            }
            followed.add(e.sequence());
            inside.decrementAndGet();
        });
        int threads = 8;
        int each = 2_000;
        List<CompletableFuture<StoredEvent>> stages = Collections.synchronizedList(new ArrayList<>());
        List<Thread> started = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            started.add(Thread.ofPlatform().start(() -> {
                for (int i = 0; i < each; i++) {
                    stages.add(log.append(SseMessage.of("x"), Set.of("t"), false).toCompletableFuture());
                }
            }));
        }
        for (Thread t : started) {
            t.join();
        }
        CompletableFuture.allOf(stages.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        List<Long> expected = LongStream.rangeClosed(1, threads * each).boxed().toList();
        assertThat(stages.stream().map(CompletableFuture::join).map(StoredEvent::sequence).sorted().toList()).isEqualTo(expected);
        assertThat(followed).isEqualTo(expected);
        assertThat(overlapped).isFalse();
        log.close();
    }

    /** An append made by the follower is stored and followed after the batch being followed, not in its middle. */
    @Test
    void anAppendFromTheFollowerComesAfterTheBatchInProgress() throws Exception {
        EventLog log = EventLog.inMemory(100, 1 << 20, Duration.ofHours(1), time);
        List<Long> followed = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch inFirst = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<CompletionStage<StoredEvent>> nested = new CompletableFuture<>();
        log.follow(e -> {
            followed.add(e.sequence());
            if (e.sequence() == 1) {
                inFirst.countDown();
                try {
                    release.await();
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                }
            } else if (e.sequence() == 2) {
                nested.complete(log.append(SseMessage.of("from the follower"), Set.of("t"), false));
            }
        });
        Thread leader = Thread.ofVirtual().start(() -> log.append(SseMessage.of("one"), Set.of("t"), false));
        assertThat(inFirst.await(10, TimeUnit.SECONDS)).isTrue();
        CompletionStage<StoredEvent> two = log.append(SseMessage.of("two"), Set.of("t"), false); // queued: one batch with three
        CompletionStage<StoredEvent> three = log.append(SseMessage.of("three"), Set.of("t"), false);
        release.countDown();
        leader.join();
        assertThat(two.toCompletableFuture().get(5, TimeUnit.SECONDS).sequence()).isEqualTo(2);
        assertThat(three.toCompletableFuture().get(5, TimeUnit.SECONDS).sequence()).isEqualTo(3);
        assertThat(nested.get(5, TimeUnit.SECONDS).toCompletableFuture().get(5, TimeUnit.SECONDS).sequence()).isEqualTo(4);
        assertThat(followed).containsExactly(1L, 2L, 3L, 4L);
        log.close();
    }

    @Test
    void aRetentionWithGapsFindsItsStartByBinarySearch() {
        Retention r = new Retention(100, 1 << 20, Duration.ofHours(1), time, "e");
        for (long s : new long[] {1, 2, 5, 6, 9}) {
            r.add(new StoredEvent(s, "e-" + s, Set.of("t"), new byte[] {1}, time.read(), false));
        }
        assertThat(r.after(0)).extracting(StoredEvent::sequence).containsExactly(1L, 2L, 5L, 6L, 9L);
        assertThat(r.after(2)).extracting(StoredEvent::sequence).containsExactly(5L, 6L, 9L);
        assertThat(r.after(3)).extracting(StoredEvent::sequence).containsExactly(5L, 6L, 9L);
        assertThat(r.after(6)).extracting(StoredEvent::sequence).containsExactly(9L);
        assertThat(r.after(8)).extracting(StoredEvent::sequence).containsExactly(9L);
        assertThat(r.after(9)).isEmpty();
        assertThatThrownBy(() -> r.add(new StoredEvent(9, "again", Set.of("t"), new byte[] {1}, time.read(), false)))
                .isInstanceOf(IllegalArgumentException.class);
        r.continueAfter(20);
        assertThat(r.lastSequence()).isEqualTo(20);
    }

    /** publishAsync validates on the caller's thread; a closed broadcaster refuses at once. */
    @Test
    void publishAsyncThrowsForBadArgumentsAndWhenClosed() throws Exception {
        Broadcaster b = Broadcaster.builder().scheduler(time).ticker(time).build();
        assertThatThrownBy(() -> b.publishAsync(SseMessage.of("x"), List.of(), false)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> b.publishAsync(SseMessage.of("x"), List.of(""), false)).isInstanceOf(IllegalArgumentException.class);
        assertThat(b.publishAsync(SseMessage.of("x"), List.of("t"), false).toCompletableFuture().get()).isEqualTo(b.log().epoch() + "-1");
        assertThat(b.lastEventId()).contains(b.log().epoch() + "-1");
        assertThat(b.stats().historySize()).isEqualTo(1);
        b.close();
        assertThatThrownBy(() -> b.publishAsync(SseMessage.of("x"), List.of("t"), false)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> b.publish(SseMessage.of("x"), "t")).isInstanceOf(IllegalStateException.class);
        EventLog shared = EventLog.inMemory(10, 1 << 20, Duration.ofHours(1), time);
        try (Broadcaster one = Broadcaster.builder().log(shared).scheduler(time).ticker(time).build()) {
            assertThatThrownBy(() -> Broadcaster.builder().log(shared).scheduler(time).ticker(time).build())
                    .isInstanceOf(IllegalStateException.class);
            assertThat(one.log()).isSameAs(shared);
        }
        shared.close();
    }
}
