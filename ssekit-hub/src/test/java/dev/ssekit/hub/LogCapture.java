package dev.ssekit.hub;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Every record the hub logs (the {@code dev.ssekit} loggers, at every level) while open, for the tests
 * that read the hub's log lines ({@link HubLogInjectionTest}, {@link HubTokenLogTest}). {@link #close}
 * removes its handler and restores the level. Thread-safe: the hub logs from its event loops.
 */
final class LogCapture implements AutoCloseable {

    private final List<LogRecord> records = new CopyOnWriteArrayList<>();
    private final Handler handler = new Handler() {
        @Override
        public void publish(LogRecord r) {
            records.add(r);
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };
    private final Logger ssekit = Logger.getLogger("dev.ssekit");
    private final Level level;

    private LogCapture() {
        level = ssekit.getLevel();
        ssekit.setLevel(Level.ALL);
        ssekit.addHandler(handler);
    }

    /** Starts capturing. */
    static LogCapture start() {
        return new LogCapture();
    }

    /** The records so far, in order; a live view. */
    List<LogRecord> records() {
        return records;
    }

    @Override
    public void close() {
        ssekit.removeHandler(handler);
        ssekit.setLevel(level);
    }
}
