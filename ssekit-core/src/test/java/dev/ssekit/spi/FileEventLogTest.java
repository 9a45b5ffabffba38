package dev.ssekit.spi;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ssekit.Broadcaster;
import dev.ssekit.SseMessage;
import dev.ssekit.testkit.ManualScheduler;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileEventLogTest {

    @TempDir
    Path dir;

    private final ManualScheduler time = new ManualScheduler();
    private final List<EventLog> opened = new ArrayList<>();

    @AfterEach
    void closeAll() {
        opened.forEach(EventLog::close);
    }

    private EventLog open(int maxEvents) {
        return open(maxEvents, false);
    }

    private EventLog open(int maxEvents, boolean fsync) {
        EventLog log = EventLog.file(dir, maxEvents, 1 << 20, Duration.ofHours(1), time, fsync);
        opened.add(log);
        return log;
    }

    private static StoredEvent append(EventLog log, SseMessage m, Set<String> topics, boolean restricted) {
        try {
            return log.append(m, topics, restricted).toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static StoredEvent append(EventLog log, long seq, boolean restricted) {
        return append(log, SseMessage.of("é " + seq), Set.of("t/" + seq, "all"), restricted);
    }

    @Test
    void aReopenedLogContinuesTheEpochAndServesEverything() {
        EventLog first = open(100);
        List<StoredEvent> stored = new ArrayList<>();
        for (int i = 1; i <= 5; i++) {
            stored.add(append(first, i, i == 3));
        }
        assertThat(stored).extracting(StoredEvent::id).containsExactly(first.epoch() + "-1", first.epoch() + "-2",
                first.epoch() + "-3", first.epoch() + "-4", first.epoch() + "-5");
        assertThat(new String(stored.get(1).frame(), UTF_8)).isEqualTo("id: " + first.epoch() + "-2\ndata: é 2\n\n");
        EventLog again = open(100);
        assertThat(again.epoch()).isEqualTo(first.epoch());
        assertThat(again.lastSequence()).isEqualTo(5);
        assertThat(again.sequenceOf(first.epoch() + "-2")).hasValue(2);
        List<StoredEvent> all = again.after(0);
        assertThat(all).hasSize(5);
        for (int i = 0; i < 5; i++) {
            StoredEvent e = all.get(i);
            StoredEvent expected = stored.get(i);
            assertThat(e.sequence()).isEqualTo(expected.sequence());
            assertThat(e.id()).isEqualTo(expected.id());
            assertThat(e.topics()).isEqualTo(expected.topics());
            assertThat(e.frame()).isEqualTo(expected.frame());
            assertThat(e.restricted()).isEqualTo(expected.restricted());
        }
        assertThat(append(again, SseMessage.builder().id("x").data("six").build(), Set.of("t"), false).sequence()).isEqualTo(6);
        assertThat(open(100).lastSequence()).isEqualTo(6);
        assertThat(open(100).sequenceOf("x")).hasValue(6);
    }

    /**
     * The {@code fsync} mode's own path (forcing each batch, the new log's and epoch's names, and
     * the compacted log's rename): every event appended through it, across compactions, is read back
     * by a reopened log. A power loss itself cannot be simulated here.
     */
    @Test
    void withFsyncEveryAppendAndCompactionIsReadBackAfterReopening() {
        EventLog s = open(3, true);
        long compactedSize = 0;
        for (int i = 1; i <= 40; i++) { // 64 KiB each: the log passes 1 MiB, where compaction starts
            append(s, SseMessage.builder().id("e" + i).data("x".repeat(64 * 1024)).build(), Set.of("t"), false);
            long size = dir.resolve("events.log").toFile().length();
            if (i > 1 && size < compactedSize) {
                compactedSize = -1; // the log shrank: a compaction ran
            } else if (compactedSize >= 0) {
                compactedSize = size;
            }
        }
        assertThat(compactedSize).as("at least one compaction ran").isEqualTo(-1);
        assertThat(Files.exists(dir.resolve("epoch"))).isTrue();
        EventLog reopened = open(3, true);
        assertThat(reopened.epoch()).isEqualTo(s.epoch()).isNotBlank();
        assertThat(reopened.after(0)).extracting(StoredEvent::id).containsExactly("e38", "e39", "e40");
        append(reopened, SseMessage.builder().id("e41").data("").build(), Set.of("t"), false);
        assertThat(reopened.after(39).getFirst().frame()).hasSize(("id: e40\ndata: \n\n").length() + 64 * 1024);
        assertThat(open(3, true).after(0)).extracting(StoredEvent::id).containsExactly("e39", "e40", "e41");
    }

    @Test
    void aTornLastRecordIsCutOffAndAppendingContinues() throws Exception {
        EventLog s = open(100);
        for (int i = 1; i <= 3; i++) {
            append(s, SseMessage.builder().id("e" + i).data("d").build(), Set.of("t"), false);
        }
        Path log = dir.resolve("events.log");
        long size = Files.size(log);
        try (FileChannel ch = FileChannel.open(log, StandardOpenOption.WRITE)) {
            ch.truncate(size - 5); // a crash in the middle of the third record's write
        }
        EventLog reopened = open(100);
        assertThat(reopened.lastSequence()).isEqualTo(2);
        assertThat(reopened.after(0)).extracting(StoredEvent::id).containsExactly("e1", "e2");
        assertThat(append(reopened, SseMessage.builder().id("e3-again").data("d").build(), Set.of("t"), false).sequence())
                .isEqualTo(3);
        assertThat(open(100).after(0)).extracting(StoredEvent::id).containsExactly("e1", "e2", "e3-again");
    }

    @Test
    void aCorruptRecordEndsTheLog() throws Exception {
        EventLog s = open(100);
        for (int i = 1; i <= 3; i++) {
            append(s, SseMessage.builder().id("e" + i).data("d").build(), Set.of("t"), false);
        }
        Path log = dir.resolve("events.log");
        byte[] bytes = Files.readAllBytes(log);
        bytes[bytes.length / 2] ^= 0x5A; // flip bits inside the second record
        Files.write(log, bytes);
        EventLog reopened = open(100);
        assertThat(reopened.after(0)).extracting(StoredEvent::id).containsExactly("e1");
        assertThat(Files.size(log)).isLessThan(bytes.length);
    }

    @Test
    void limitsApplyAfterReloadAndTheLogIsCompacted() throws Exception {
        EventLog s = open(3);
        String pad = "x".repeat(2000);
        for (int i = 1; i <= 2000; i++) {
            append(s, SseMessage.builder().id("e" + i).data(pad).build(), Set.of("t"), false);
        }
        assertThat(s.size()).isEqualTo(3);
        assertThat(Files.size(dir.resolve("events.log"))).as("compacted: bounded by a multiple of what is retained")
                .isLessThan(2 << 20);
        EventLog reopened = open(3);
        assertThat(reopened.lastSequence()).isEqualTo(2000);
        assertThat(reopened.oldest().orElseThrow().sequence()).isEqualTo(1998);
        assertThat(reopened.after(0)).extracting(StoredEvent::id).containsExactly("e1998", "e1999", "e2000");
    }

    @Test
    void aBroadcasterOnAReopenedLogResumesOldIds() {
        String id;
        try (Broadcaster b = Broadcaster.builder().log(open(100)).scheduler(time).ticker(time).build()) {
            b.publish(SseMessage.of("one"), "t");
            id = b.publish(SseMessage.of("two"), "t");
            b.publish(SseMessage.of("three"), "t");
        }
        try (Broadcaster b = Broadcaster.builder().log(open(100)).scheduler(time).ticker(time).build()) {
            assertThat(b.resumePoint(id)).isEqualTo(id);
            assertThat(b.publish(SseMessage.of("four"), "t")).endsWith("-4");
        }
    }

    /**
     * Group commit: 16 threads append 200 events each with fsync on. Every stage completes, the
     * sequence is gapless, the follower sees every event once in order, never two at a time, a
     * reopened log holds them all, and the batches took fewer forces than there were appends.
     */
    @Test
    void concurrentAppendsAreForcedTogetherAndStayGaplessAndOrdered() throws Exception {
        FileEventLog log = (FileEventLog) open(10_000, true);
        List<Long> followed = java.util.Collections.synchronizedList(new ArrayList<>());
        java.util.concurrent.atomic.AtomicInteger inFollower = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicBoolean overlapped = new java.util.concurrent.atomic.AtomicBoolean();
        log.follow(e -> {
            if (inFollower.incrementAndGet() > 1) {
                overlapped.set(true);
            }
            followed.add(e.sequence());
            inFollower.decrementAndGet();
        });
        int threads = 16;
        int each = 200;
        CountDownLatch go = new CountDownLatch(1);
        List<CompletableFuture<StoredEvent>> stages = java.util.Collections.synchronizedList(new ArrayList<>());
        List<Thread> started = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int n = t;
            started.add(Thread.ofPlatform().start(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < each; i++) {
                    stages.add(log.append(SseMessage.of(n + ":" + i), Set.of("t"), false).toCompletableFuture());
                }
            }));
        }
        go.countDown();
        for (Thread t : started) {
            t.join(30_000);
        }
        CompletableFuture.allOf(stages.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        assertThat(stages).hasSize(threads * each);
        assertThat(stages.stream().map(CompletableFuture::join).map(StoredEvent::sequence).sorted().toList())
                .isEqualTo(java.util.stream.LongStream.rangeClosed(1, threads * each).boxed().toList());
        assertThat(followed).isEqualTo(java.util.stream.LongStream.rangeClosed(1, threads * each).boxed().toList());
        assertThat(overlapped).as("the follower never ran twice at once").isFalse();
        assertThat(log.forces.get()).as("forces for %d appends", threads * each).isLessThan(threads * each).isPositive();
        log.close();
        EventLog reopened = open(10_000, true);
        assertThat(reopened.lastSequence()).isEqualTo(threads * each);
        assertThat(reopened.after(0)).hasSize(threads * each);
    }

    @Test
    void aClosedLogFailsAppendsAndOneFollowerOnly() {
        EventLog log = open(10);
        log.follow(e -> { });
        assertThatThrownBy(() -> log.follow(e -> { })).isInstanceOf(IllegalStateException.class);
        log.close();
        log.close();
        assertThatThrownBy(() -> log.append(SseMessage.of("x"), Set.of("t"), false).toCompletableFuture().get())
                .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(IllegalStateException.class);
    }

    /** A write that fails stores nothing of its batch: the stage fails, nothing is served, the sequence does not move. */
    @Test
    void aFailedWriteStoresNothing() throws Exception {
        EventLog log = open(10);
        append(log, 1, false);
        // the log file's channel is closed under the log: the next write fails
        java.lang.reflect.Field f = FileEventLog.class.getDeclaredField("log");
        f.setAccessible(true);
        ((FileChannel) f.get(log)).close();
        assertThatThrownBy(() -> log.append(SseMessage.of("x"), Set.of("t"), false).toCompletableFuture().get())
                .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(java.io.UncheckedIOException.class);
        assertThat(log.lastSequence()).isEqualTo(1);
        assertThat(log.after(0)).hasSize(1);
    }
}
