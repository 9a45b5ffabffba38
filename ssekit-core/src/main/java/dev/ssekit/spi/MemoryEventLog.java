package dev.ssekit.spi;

import dev.ssekit.Ticker;
import java.util.List;

/** {@link EventLog#inMemory}: the retention is the whole log; a batch's write stores nothing more. */
final class MemoryEventLog extends LocalEventLog {

    MemoryEventLog(Retention retention, Ticker ticker) {
        super(retention, ticker);
    }

    @Override
    void write(List<StoredEvent> events) {
        // the retention holds them
    }

    @Override
    void release() {
    }

    @Override
    public String toString() {
        return "MemoryEventLog[" + retention + "]";
    }
}
