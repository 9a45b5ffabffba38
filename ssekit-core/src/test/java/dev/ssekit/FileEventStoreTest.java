package dev.ssekit;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ssekit.spi.EventStore;
import dev.ssekit.spi.StoredEvent;
import dev.ssekit.testkit.ManualScheduler;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileEventStoreTest {

    @TempDir
    Path dir;

    private final ManualScheduler time = new ManualScheduler();

    private EventStore open(int maxEvents) {
        return EventStore.file(dir, maxEvents, 1 << 20, Duration.ofHours(1), time, false);
    }

    private static StoredEvent event(long seq, String id, boolean restricted, ManualScheduler time) {
        return new StoredEvent(seq, id, Set.of("t/" + seq, "all"), ("id: " + id + "\ndata: é " + seq + "\n\n").getBytes(UTF_8),
                time.read(), restricted);
    }

    @Test
    void aReopenedStoreContinuesTheEpochAndServesEverything() {
        EventStore first = open(100);
        for (int i = 1; i <= 5; i++) {
            first.append(event(i, first.epoch() + "-" + i, i == 3, time));
        }
        EventStore again = open(100);
        assertThat(again.epoch()).isEqualTo(first.epoch());
        assertThat(again.lastSequence()).isEqualTo(5);
        assertThat(again.sequenceOf(first.epoch() + "-2")).hasValue(2);
        List<StoredEvent> all = again.after(0);
        assertThat(all).hasSize(5);
        for (StoredEvent e : all) {
            StoredEvent expected = event(e.sequence(), first.epoch() + "-" + e.sequence(), e.sequence() == 3, time);
            assertThat(e.id()).isEqualTo(expected.id());
            assertThat(e.topics()).isEqualTo(expected.topics());
            assertThat(e.frame()).isEqualTo(expected.frame());
            assertThat(e.restricted()).isEqualTo(expected.restricted());
        }
        again.append(event(6, "x", false, time));
        assertThat(open(100).lastSequence()).isEqualTo(6);
    }

    /**
     * The {@code fsync} mode's own path (forcing each append, the new log's and epoch's names, and
     * the compacted log's rename): every event appended through it, across compactions, is read back
     * by a reopened store. A power loss itself cannot be simulated here.
     */
    @Test
    void withFsyncEveryAppendAndCompactionIsReadBackAfterReopening() throws Exception {
        EventStore s = EventStore.file(dir, 3, 1 << 20, Duration.ofHours(1), time, true);
        long compactedSize = 0;
        for (int i = 1; i <= 40; i++) { // 64 KiB each: the log passes 1 MiB, where compaction starts
            s.append(new StoredEvent(i, "e" + i, Set.of("t"), ("id: e" + i + "\ndata: " + "x".repeat(64 * 1024) + "\n\n")
                    .getBytes(UTF_8), time.read(), false));
            long size = Files.size(dir.resolve("events.log"));
            if (i > 1 && size < compactedSize) {
                compactedSize = -1; // the log shrank: a compaction ran
            } else if (compactedSize >= 0) {
                compactedSize = size;
            }
        }
        assertThat(compactedSize).as("at least one compaction ran").isEqualTo(-1);
        assertThat(Files.exists(dir.resolve("epoch"))).isTrue();
        EventStore reopened = EventStore.file(dir, 3, 1 << 20, Duration.ofHours(1), time, true);
        assertThat(reopened.epoch()).isEqualTo(s.epoch()).isNotBlank();
        assertThat(reopened.after(0)).extracting(StoredEvent::id).containsExactly("e38", "e39", "e40");
        reopened.append(event(41, "e41", false, time));
        assertThat(reopened.after(39).getFirst().frame()).hasSize(("id: e40\ndata: \n\n").length() + 64 * 1024);
        assertThat(EventStore.file(dir, 3, 1 << 20, Duration.ofHours(1), time, true).after(0)).extracting(StoredEvent::id)
                .containsExactly("e39", "e40", "e41");
    }

    @Test
    void aTornLastRecordIsCutOffAndAppendingContinues() throws Exception {
        EventStore s = open(100);
        for (int i = 1; i <= 3; i++) {
            s.append(event(i, "e" + i, false, time));
        }
        Path log = dir.resolve("events.log");
        long size = Files.size(log);
        try (FileChannel ch = FileChannel.open(log, StandardOpenOption.WRITE)) {
            ch.truncate(size - 5); // a crash in the middle of the third record's write
        }
        EventStore reopened = open(100);
        assertThat(reopened.lastSequence()).isEqualTo(2);
        assertThat(reopened.after(0)).extracting(StoredEvent::id).containsExactly("e1", "e2");
        reopened.append(event(3, "e3-again", false, time));
        assertThat(open(100).after(0)).extracting(StoredEvent::id).containsExactly("e1", "e2", "e3-again");
    }

    @Test
    void aCorruptRecordEndsTheLog() throws Exception {
        EventStore s = open(100);
        for (int i = 1; i <= 3; i++) {
            s.append(event(i, "e" + i, false, time));
        }
        Path log = dir.resolve("events.log");
        byte[] bytes = Files.readAllBytes(log);
        bytes[bytes.length / 2] ^= 0x5A; // flip bits inside the second record
        Files.write(log, bytes);
        EventStore reopened = open(100);
        assertThat(reopened.after(0)).extracting(StoredEvent::id).containsExactly("e1");
        assertThat(Files.size(log)).isLessThan(bytes.length);
    }

    @Test
    void limitsApplyAfterReloadAndTheLogIsCompacted() throws Exception {
        EventStore s = open(3);
        String pad = "x".repeat(2000);
        for (int i = 1; i <= 2000; i++) {
            s.append(new StoredEvent(i, "e" + i, Set.of("t"), ("data: " + pad + "\n\n").getBytes(UTF_8), time.read(), false));
        }
        assertThat(s.size()).isEqualTo(3);
        assertThat(Files.size(dir.resolve("events.log"))).as("compacted: bounded by a multiple of what is retained")
                .isLessThan(2 << 20);
        EventStore reopened = open(3);
        assertThat(reopened.lastSequence()).isEqualTo(2000);
        assertThat(reopened.firstSequence()).isEqualTo(1998);
        assertThat(reopened.after(0)).extracting(StoredEvent::id).containsExactly("e1998", "e1999", "e2000");
    }

    @Test
    void aBroadcasterOnAReopenedStoreResumesOldIds() throws Exception {
        String id;
        try (Broadcaster b = Broadcaster.builder().store(open(100)).scheduler(time).ticker(time).build()) {
            b.publish(SseMessage.of("one"), "t");
            id = b.publish(SseMessage.of("two"), "t");
            b.publish(SseMessage.of("three"), "t");
        }
        try (Broadcaster b = Broadcaster.builder().store(open(100)).scheduler(time).ticker(time).build()) {
            assertThat(b.resumePoint(id)).isEqualTo(id);
            assertThat(b.publish(SseMessage.of("four"), "t")).endsWith("-4");
        }
    }
}
