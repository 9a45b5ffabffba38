package dev.ssekit.spi;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.ssekit.Ticker;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32C;

/**
 * {@link EventLog#file}: an append-only file beside the in-memory {@link Retention}. A record is
 * {@code length:int32, crc32c:int32, body} where the body holds the sequence, the wall-clock
 * time, the restricted flag, the id, the topics and the frame. A batch of appends (group commit,
 * {@link LocalEventLog}) is one gathering write and, with fsync, one force.
 *
 * <p>A record's body is at most {@link #MAX_RECORD} bytes, the most replay reads back: a larger
 * append is refused ({@link EventTooLargeException}), never stored and lost at the next open. The
 * {@code sequence} file holds the high-water mark written before each compaction, so that a log
 * compacted to nothing (every event aged out) still continues its epoch's sequence after a
 * restart: an id never names two events. A write that fails leaves the log where its intact
 * prefix ends: the torn bytes are cut off, and while they cannot be, appends fail rather than be
 * written behind them (replay would stop at the torn record and lose them).
 */
final class FileEventLog extends LocalEventLog {

    private static final String LOG = "events.log";
    private static final boolean WINDOWS = System.getProperty("os.name", "").startsWith("Windows");
    private static final String EPOCH = "epoch";
    /** The high-water mark of the sequence, written before a compaction (see the class comment). */
    private static final String SEQUENCE = "sequence";
    /** The largest record body replay reads back; a larger append is refused. */
    static final int MAX_RECORD = 64 << 20;

    private final Path directory;
    private final boolean fsync;
    /** Forces of the log for appends: fewer than appends when batches form (group commit). */
    final AtomicLong forces = new AtomicLong();
    // guarded by appendLock
    private FileChannel log;
    private long logBytes;
    /** Bytes past {@code logBytes} may be in the file (a failed write whose cut-off failed too). */
    private boolean torn;

    private FileEventLog(Path directory, Retention index, FileChannel log, long logBytes, Ticker ticker, boolean fsync) {
        super(index, ticker);
        this.directory = directory;
        this.log = log;
        this.logBytes = logBytes;
        this.fsync = fsync;
    }

    static FileEventLog open(Path directory, int maxEvents, long maxBytes, Duration maxAge, Ticker ticker, boolean fsync) {
        try {
            Files.createDirectories(directory);
            Path epochFile = directory.resolve(EPOCH);
            String epoch;
            if (Files.exists(epochFile)) {
                epoch = Files.readString(epochFile, UTF_8).trim();
            } else {
                epoch = Retention.newEpoch();
                Path tmp = directory.resolve(EPOCH + ".tmp");
                try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                        StandardOpenOption.WRITE)) {
                    ByteBuffer b = ByteBuffer.wrap(epoch.getBytes(UTF_8));
                    while (b.hasRemaining()) {
                        out.write(b);
                    }
                    out.force(true); // a power loss must not leave an empty epoch file behind the rename
                }
                Files.move(tmp, epochFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            }
            Retention index = new Retention(maxEvents, maxBytes, maxAge, ticker, epoch);
            FileChannel log = FileChannel.open(directory.resolve(LOG), StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
            long valid = replay(log, index, ticker);
            index.continueAfter(readSequence(directory)); // a log compacted to nothing still goes on after it
            if (valid < log.size()) {
                log.truncate(valid); // a record torn by a crash: cut off
                log.force(true);
            }
            log.position(valid);
            if (fsync) {
                syncDirectory(directory); // the new epoch file's and log's names, not only their bytes
            }
            FileEventLog store = new FileEventLog(directory, index, log, valid, ticker, fsync);
            store.appendLock.lock();
            try {
                store.compactIfLarge();
            } finally {
                store.appendLock.unlock();
            }
            return store;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the event log in " + directory + ": " + e.getMessage(), e);
        }
    }

    /** The high-water mark a compaction left, or 0. */
    private static long readSequence(Path directory) throws IOException {
        Path file = directory.resolve(SEQUENCE);
        if (!Files.exists(file)) {
            return 0;
        }
        String text = Files.readString(file, UTF_8).trim();
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new IOException("the sequence file " + file + " is not a number: " + text, e);
        }
    }

    /** Writes the high-water mark durably (temporary file, force, atomic rename) before a compaction. */
    private void writeSequence(long sequence) throws IOException {
        Path tmp = directory.resolve(SEQUENCE + ".tmp");
        try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.wrap(Long.toString(sequence).getBytes(UTF_8));
            while (b.hasRemaining()) {
                out.write(b);
            }
            out.force(true);
        }
        Files.move(tmp, directory.resolve(SEQUENCE), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        if (fsync) {
            syncDirectory(directory); // its name is durable before the compacted log's is
        }
    }

    /** Loads every intact record into the index; returns the length of the intact prefix. */
    private static long replay(FileChannel log, Retention index, Ticker ticker) throws IOException {
        long pos = 0;
        long size = log.size();
        long lastSeq = 0;
        ByteBuffer head = ByteBuffer.allocate(8);
        long nowMillis = System.currentTimeMillis();
        long nowNanos = ticker.read();
        while (pos + 8 <= size) {
            head.clear();
            readFully(log, head, pos);
            head.flip();
            int length = head.getInt();
            int crc = head.getInt();
            if (length <= 0 || length > MAX_RECORD || pos + 8 + length > size) {
                break;
            }
            ByteBuffer body = ByteBuffer.allocate(length);
            readFully(log, body, pos + 8);
            CRC32C check = new CRC32C();
            check.update(body.array(), 0, length);
            if ((int) check.getValue() != crc) {
                break;
            }
            StoredEvent e = decode(body.flip(), nowMillis, nowNanos);
            if (lastSeq != 0 && e.sequence() != lastSeq + 1) {
                break; // cannot happen in a log this store wrote; stop rather than serve disorder
            }
            index.add(e);
            lastSeq = e.sequence();
            pos += 8 + length;
        }
        index.continueAfter(lastSeq);
        return pos;
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long at) throws IOException {
        while (b.hasRemaining()) {
            int n = ch.read(b, at + b.position());
            if (n < 0) {
                throw new IOException("unexpected end of the event log");
            }
        }
    }

    /** The body length {@link #encode} makes, without making it. */
    private static long encodedLength(StoredEvent e) {
        long size = 8 + 8 + 1 + 4 + (long) e.id().getBytes(UTF_8).length + 4 + 4 + e.frame().length;
        for (String t : e.topics()) {
            size += 4 + (long) t.getBytes(UTF_8).length;
        }
        return size;
    }

    @Override
    RuntimeException refuse(StoredEvent event) {
        long length = encodedLength(event);
        return length > MAX_RECORD ? new EventTooLargeException(length, MAX_RECORD) : null;
    }

    private static byte[] encode(StoredEvent e, long wallMillis) {
        byte[] id = e.id().getBytes(UTF_8);
        List<byte[]> topics = new ArrayList<>();
        int size = 8 + 8 + 1 + 4 + id.length + 4 + 4 + e.frame().length;
        for (String t : e.topics()) {
            byte[] b = t.getBytes(UTF_8);
            topics.add(b);
            size += 4 + b.length;
        }
        ByteBuffer body = ByteBuffer.allocate(size);
        body.putLong(e.sequence()).putLong(wallMillis).put((byte) (e.restricted() ? 1 : 0));
        body.putInt(id.length).put(id).putInt(topics.size());
        for (byte[] t : topics) {
            body.putInt(t.length).put(t);
        }
        body.putInt(e.frame().length).put(e.frame());
        return body.array();
    }

    /** A record ready to write: {@code length, crc32c, body}. */
    private static ByteBuffer record(byte[] body) {
        CRC32C crc = new CRC32C();
        crc.update(body);
        return ByteBuffer.allocate(8 + body.length).putInt(body.length).putInt((int) crc.getValue()).put(body).flip();
    }

    private static StoredEvent decode(ByteBuffer b, long nowMillis, long nowNanos) {
        long seq = b.getLong();
        long wallMillis = b.getLong();
        boolean restricted = b.get() == 1;
        String id = string(b);
        int n = b.getInt();
        Set<String> topics = new HashSet<>();
        for (int i = 0; i < n; i++) {
            topics.add(string(b));
        }
        byte[] frame = new byte[b.getInt()];
        b.get(frame);
        // ages continue across restarts: translate the wall-clock time to this process's ticker
        long nanoTime = nowNanos - Math.max(0, nowMillis - wallMillis) * 1_000_000L;
        return new StoredEvent(seq, id, topics, frame, nanoTime, restricted);
    }

    private static String string(ByteBuffer b) {
        byte[] s = new byte[b.getInt()];
        b.get(s);
        return new String(s, UTF_8);
    }

    @Override
    void write(List<StoredEvent> events) throws IOException {
        long nowMillis = System.currentTimeMillis();
        long nowNanos = ticker.read();
        ByteBuffer[] records = new ByteBuffer[events.size()];
        long total = 0;
        for (int i = 0; i < records.length; i++) {
            StoredEvent e = events.get(i);
            records[i] = record(encode(e, nowMillis - (nowNanos - e.nanoTime()) / 1_000_000L));
            total += records[i].limit();
        }
        if (torn) {
            // a failed write left bytes past the intact prefix that could not be cut off: a record written
            // behind them would be acknowledged and then lost (replay stops at the torn one)
            try {
                log.truncate(logBytes);
                log.position(logBytes);
                torn = false;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot append to the event log in " + directory
                        + ": the torn end of a failed write cannot be cut off: " + e.getMessage(), e);
            }
        }
        try {
            for (long done = 0; done < total;) {
                done += log.write(records);
            }
            if (fsync) {
                log.force(false);
                forces.incrementAndGet();
            }
        } catch (IOException e) {
            // nothing of the batch is added to the retention: the publishes fail and nothing is served
            // that was not stored; a partly written batch is cut off so the log stays readable past it
            try {
                log.truncate(logBytes);
                log.position(logBytes);
            } catch (IOException cut) {
                torn = true; // the next write cuts it off first, or fails; the next open cuts it off too
                e.addSuppressed(cut);
            }
            throw new UncheckedIOException("cannot append to the event log in " + directory + ": " + e.getMessage(), e);
        }
        logBytes += total;
    }

    @Override
    void written() {
        compactIfLarge();
    }

    @Override
    void release() {
        try {
            log.close();
        } catch (IOException e) {
            System.getLogger(FileEventLog.class.getName()).log(System.Logger.Level.WARNING,
                    "cannot close the event log in {0}: {1}", directory, e.toString());
        }
    }

    /** Rewrites the log to the retained events when it is more than four times their size. */
    private void compactIfLarge() {
        long retained = retention.bytes();
        if (logBytes < 1 << 20 || logBytes < 4 * Math.max(retained, 1)) {
            return;
        }
        Path tmp = directory.resolve(LOG + ".compact");
        try {
            // first: once the new log is in place, its events may not name the last sequence any more
            writeSequence(retention.lastSequence());
        } catch (IOException e) {
            System.getLogger(FileEventLog.class.getName()).log(System.Logger.Level.WARNING,
                    "cannot compact the event log in {0} (its high-water mark cannot be written): {1}", directory,
                    e.toString());
            return;
        }
        try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            long written = 0;
            long nowMillis = System.currentTimeMillis();
            long nowNanos = ticker.read();
            for (StoredEvent e : retention.after(0)) {
                ByteBuffer record = record(encode(e, nowMillis - (nowNanos - e.nanoTime()) / 1_000_000L));
                written += record.limit();
                while (record.hasRemaining()) {
                    out.write(record);
                }
            }
            out.force(true);
            log.close();
            Files.move(tmp, directory.resolve(LOG), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            log = FileChannel.open(directory.resolve(LOG), StandardOpenOption.READ, StandardOpenOption.WRITE);
            log.position(written);
            logBytes = written;
            torn = false;
            if (fsync) {
                // appends forced into the new log are durable only once its name is: else a power loss
                // brings the old log back without them
                syncDirectory(directory);
            }
        } catch (IOException e) {
            // the append that led here is stored; compaction waits for the next one. Whichever log
            // the name now points to (the old one if the move failed) is the log from here on
            try {
                if (!log.isOpen()) {
                    log = FileChannel.open(directory.resolve(LOG), StandardOpenOption.READ, StandardOpenOption.WRITE);
                }
                logBytes = log.size();
                log.position(logBytes);
            } catch (IOException reopen) {
                e.addSuppressed(reopen);
                throw new UncheckedIOException("cannot reopen the event log in " + directory + " after a failed compaction: "
                        + e.getMessage(), e);
            }
            System.getLogger(FileEventLog.class.getName()).log(System.Logger.Level.WARNING,
                    "cannot compact the event log in {0} (it goes on growing until a later compaction succeeds): {1}", directory,
                    e.toString());
        }
    }

    /**
     * Forces a directory's entries (names created, renamed) to the device, as {@code fsync} on the
     * directory does: a file's own {@code force} does not cover its name.
     */
    static void syncDirectory(Path directory) throws IOException {
        if (WINDOWS) {
            return; // a directory cannot be opened as a file there; NTFS journals its names itself
        }
        try (FileChannel dir = FileChannel.open(directory, StandardOpenOption.READ)) {
            dir.force(true);
        }
    }

    @Override
    public String toString() {
        return "FileEventLog[" + directory + ", " + retention + "]";
    }
}
