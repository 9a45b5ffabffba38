package dev.ssekit.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.ssekit.SseMessage;
import dev.ssekit.testkit.ManualScheduler;
import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #27's defects of the file log: an append it could not read back (4), ids reused after every
 * event aged out (7), a batch acknowledged behind a torn record that could not be cut off (10).
 */
@Timeout(60)
class FileEventLogDefectsTest {

    @TempDir
    Path dir;

    private final ManualScheduler time = new ManualScheduler();
    private final List<EventLog> opened = new ArrayList<>();

    @AfterEach
    void closeAll() {
        opened.forEach(EventLog::close);
    }

    private EventLog open(long maxBytes, Duration maxAge) {
        EventLog log = EventLog.file(dir, 100_000, maxBytes, maxAge, time, false);
        opened.add(log);
        return log;
    }

    private static StoredEvent append(EventLog log, String data) throws Exception {
        return log.append(SseMessage.of(data), Set.of("t"), false).toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    /** Defect 4: a record over what replay reads back is refused, not acknowledged and lost at the next open. */
    @Test
    void anEventLargerThanTheLogCanReadBackIsRefused() throws Exception {
        EventLog log = open(1L << 30, Duration.ofHours(1));
        StoredEvent first = append(log, "before");
        String huge = "x".repeat((64 << 20) + 16);
        assertThatThrownBy(() -> append(log, huge)).isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(EventTooLargeException.class)
                .hasMessageContaining(Integer.toString(64 << 20));
        StoredEvent after = append(log, "after");
        assertThat(after.sequence()).as("the refused event took no sequence number").isEqualTo(first.sequence() + 1);
        log.close();
        EventLog reopened = open(1L << 30, Duration.ofHours(1));
        assertThat(reopened.after(0)).extracting(StoredEvent::id).containsExactly(first.id(), after.id());
        assertThat(reopened.lastSequence()).isEqualTo(after.sequence());
    }

    /** Defect 4 in a batch: the one too large fails, the others of the same group commit are stored. */
    @Test
    void aTooLargeEventFailsAloneInItsBatch() throws Exception {
        EventLog log = open(1L << 30, Duration.ofHours(1));
        String huge = "y".repeat((64 << 20) + 16);
        var a = log.append(SseMessage.of("a"), Set.of("t"), false).toCompletableFuture();
        var big = log.append(SseMessage.of(huge), Set.of("t"), false).toCompletableFuture();
        var b = log.append(SseMessage.of("b"), Set.of("t"), false).toCompletableFuture();
        assertThat(a.get(30, TimeUnit.SECONDS).sequence()).isEqualTo(1);
        assertThatThrownBy(() -> big.get(30, TimeUnit.SECONDS)).cause().isInstanceOf(EventTooLargeException.class);
        assertThat(b.get(30, TimeUnit.SECONDS).sequence()).isEqualTo(2);
    }

    /**
     * Defect 7: every event aged out, the open compacts the log to nothing; the next open must
     * still continue after the last sequence, else {@code <epoch>-1} names a second event.
     */
    @Test
    void theSequenceNeverGoesBackAfterEveryEventAgedOut() throws Exception {
        EventLog first = open(64L << 20, Duration.ofMillis(1));
        String pad = "p".repeat(2000);
        StoredEvent last = null;
        for (int i = 0; i < 600; i++) { // 1.2 MB of log: large enough to be compacted
            last = append(first, pad);
        }
        first.close();
        // the log keeps ages across restarts in wall-clock time (System.currentTimeMillis, which
        // no manual ticker moves): the wait is for the wall clock itself to pass the 1 ms maxAge,
        // after which every event has aged out at the next open
        long closedAt = System.currentTimeMillis();
        await("the wall clock past the 1 ms maxAge").atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(1))
                .until(() -> System.currentTimeMillis() > closedAt + 2);
        EventLog second = open(64L << 20, Duration.ofMillis(1));
        assertThat(second.size()).isZero();
        assertThat(Files.size(dir.resolve("events.log"))).as("compacted to nothing").isZero();
        assertThat(second.lastSequence()).isEqualTo(last.sequence());
        second.close();
        EventLog third = open(64L << 20, Duration.ofMillis(1));
        assertThat(third.epoch()).isEqualTo(first.epoch());
        assertThat(third.lastSequence()).as("the high-water mark survives the empty log").isEqualTo(last.sequence());
        StoredEvent next = append(third, "next");
        assertThat(next.sequence()).isEqualTo(last.sequence() + 1);
        assertThat(next.id()).isEqualTo(first.epoch() + "-" + (last.sequence() + 1));
    }

    /**
     * Defect 10: a write fails half-way and cutting the torn bytes off fails too. No later append
     * may be acknowledged behind the torn record (replay stops there): it lands where the log's
     * intact prefix ends, or it fails.
     */
    @Test
    void aBatchAfterAFailedWriteAndAFailedTruncateIsNeverLostBehindTheTornRecord() throws Exception {
        EventLog log = open(1L << 20, Duration.ofHours(1));
        StoredEvent one = append(log, "one");
        Faulty faulty = Faulty.install(log);
        faulty.tearNextWrite = true;
        faulty.failTruncates = 1;
        assertThatThrownBy(() -> append(log, "torn")).cause().isInstanceOf(java.io.UncheckedIOException.class);
        StoredEvent two = append(log, "two"); // the disk is back: acknowledged, so it must survive a restart
        StoredEvent three = append(log, "three");
        log.close();
        EventLog reopened = open(1L << 20, Duration.ofHours(1));
        assertThat(reopened.after(0)).extracting(StoredEvent::id).containsExactly(one.id(), two.id(), three.id());
        assertThat(reopened.lastSequence()).isEqualTo(three.sequence());
    }

    /** Defect 10, the torn tail cannot be cut at all: appends fail (never acknowledged) until it can. */
    @Test
    void whileTheTornTailCannotBeCutOffAppendsFail() throws Exception {
        EventLog log = open(1L << 20, Duration.ofHours(1));
        StoredEvent one = append(log, "one");
        Faulty faulty = Faulty.install(log);
        faulty.tearNextWrite = true;
        faulty.failTruncates = Integer.MAX_VALUE;
        assertThatThrownBy(() -> append(log, "torn")).cause().isInstanceOf(java.io.UncheckedIOException.class);
        assertThatThrownBy(() -> append(log, "refused")).cause().isInstanceOf(java.io.UncheckedIOException.class);
        assertThat(log.lastSequence()).isEqualTo(one.sequence());
        faulty.failTruncates = 0;
        StoredEvent two = append(log, "two");
        log.close();
        EventLog reopened = open(1L << 20, Duration.ofHours(1));
        assertThat(reopened.after(0)).extracting(StoredEvent::id).containsExactly(one.id(), two.id());
    }

    /**
     * The log's file channel with faults on demand: a write that stops half-way with an error (a
     * full disk), truncates that fail. Everything else goes to the real channel.
     */
    private static final class Faulty extends FileChannel {
        private final FileChannel real;
        volatile boolean tearNextWrite;
        volatile int failTruncates;

        private Faulty(FileChannel real) {
            this.real = real;
        }

        static Faulty install(EventLog log) throws ReflectiveOperationException {
            Field f = FileEventLog.class.getDeclaredField("log");
            f.setAccessible(true);
            Faulty faulty = new Faulty((FileChannel) f.get(log));
            f.set(log, faulty);
            return faulty;
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
            if (tearNextWrite) {
                tearNextWrite = false;
                ByteBuffer first = srcs[offset];
                ByteBuffer half = first.duplicate();
                half.limit(half.position() + half.remaining() / 2);
                real.write(half);
                throw new IOException("no space left on device (injected)");
            }
            return real.write(srcs, offset, length);
        }

        @Override
        public FileChannel truncate(long size) throws IOException {
            if (failTruncates > 0) {
                failTruncates--;
                throw new IOException("truncate failed (injected)");
            }
            real.truncate(size);
            return this;
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            return real.read(dst);
        }

        @Override
        public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
            return real.read(dsts, offset, length);
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            return real.write(src);
        }

        @Override
        public long position() throws IOException {
            return real.position();
        }

        @Override
        public FileChannel position(long newPosition) throws IOException {
            real.position(newPosition);
            return this;
        }

        @Override
        public long size() throws IOException {
            return real.size();
        }

        @Override
        public void force(boolean metaData) throws IOException {
            real.force(metaData);
        }

        @Override
        public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
            return real.transferTo(position, count, target);
        }

        @Override
        public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
            return real.transferFrom(src, position, count);
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            return real.read(dst, position);
        }

        @Override
        public int write(ByteBuffer src, long position) throws IOException {
            return real.write(src, position);
        }

        @Override
        public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
            return real.map(mode, position, size);
        }

        @Override
        public FileLock lock(long position, long size, boolean shared) throws IOException {
            return real.lock(position, size, shared);
        }

        @Override
        public FileLock tryLock(long position, long size, boolean shared) throws IOException {
            return real.tryLock(position, size, shared);
        }

        @Override
        protected void implCloseChannel() throws IOException {
            real.close();
        }
    }
}
