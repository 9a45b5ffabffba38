package dev.ssekit;

import dev.ssekit.spi.EventLog;
import dev.ssekit.spi.StoredEvent;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Where a subscriber's stream starts, from its {@code Last-Event-ID} (or an explicit resume
 * point) and the {@link EventLog}'s history: the events to replay, a {@code reset} notice when the
 * id is not in history, and the sequence after which live events are the subscriber's. Reads the
 * log only (never its append path); thread-safe.
 */
final class ResumePlanner {

    /**
     * What a new subscriber gets before its live events.
     *
     * @param notice a {@code reset} event to send first, or null
     * @param replay the history to send, oldest first (events at or before {@code after} are skipped)
     * @param after the sequence the stream continues after: no event up to it is sent live
     */
    record Plan(byte[] notice, List<StoredEvent> replay, long after) {
    }

    private final EventLog log;

    ResumePlanner(EventLog log) {
        this.log = log;
    }

    /**
     * The plan for a subscriber that resumes from {@code lastId} ({@code ""}: none, live events
     * only; {@link Broadcaster#EARLIEST}: all of history). Call it after the subscriber is
     * registered for live events: the newest sequence read here bounds what may still be on its way
     * to it, and is not its own unless replayed.
     */
    Plan plan(String lastId) {
        long newest = log.lastSequence();
        if (lastId.isEmpty()) {
            return new Plan(null, List.of(), newest);
        }
        if (lastId.equals(Broadcaster.EARLIEST)) {
            return new Plan(null, log.after(0), 0);
        }
        OptionalLong seq = log.sequenceOf(lastId);
        if (seq.isPresent()) {
            long from = seq.getAsLong();
            List<StoredEvent> replay = log.after(from);
            // a shared log may hold a hole (entries its node never read): a resume across it is told
            return new Plan(hole(from, replay, newest) ? reset(lastId, "expired") : null, replay, from);
        }
        if (isExpiredId(lastId)) {
            return new Plan(reset(lastId, "expired"), log.after(0), 0);
        }
        return new Plan(reset(lastId, "unknown"), List.of(), newest);
    }

    /**
     * Whether the events after {@code from} skip a sequence: the replay is not {@code from + 1,
     * from + 2…}, or ends before {@code newest} (read before the replay, so what the replay lacks
     * up to it was skipped, not still on its way).
     */
    private static boolean hole(long from, List<StoredEvent> replay, long newest) {
        long expected = from + 1;
        for (StoredEvent e : replay) {
            if (e.sequence() != expected) {
                return true;
            }
            expected++;
        }
        return expected - 1 < newest;
    }

    /** See {@link Broadcaster#resumePoint(String)}. */
    String resumePoint(String lastEventId) {
        return log.sequenceOf(Objects.requireNonNull(lastEventId, "lastEventId")).isPresent() ? lastEventId
                : Broadcaster.EARLIEST;
    }

    /** See {@link Broadcaster#lastEventId()}. */
    Optional<String> lastEventId() {
        // the log's reads never wait for an append (its file I/O, fsync, fan-out), and servers call
        // this on event loops; an append racing with this call makes it return the newer event,
        // which is as good
        List<StoredEvent> newest = log.after(log.lastSequence() - 1);
        return newest.isEmpty() ? Optional.empty() : Optional.of(newest.getLast().id());
    }

    /**
     * An id older than history: {@code <epoch>-<n>} of the log's own numbering (a Redis log's
     * epoch is the data set's, shared by every node) with {@code n} at most the newest number, or,
     * for a log whose oldest retained event came with a numbered id of another epoch, of that
     * event's numbering with {@code n} below the oldest's. An id within the retained range that
     * history lacks is unknown, not expired.
     */
    private boolean isExpiredId(String id) {
        if (numberedAtMost(id, log.epoch(), log.lastSequence())) {
            return true;
        }
        Optional<StoredEvent> oldest = log.oldest();
        if (oldest.isEmpty()) {
            return false;
        }
        String oldestId = oldest.get().id();
        int dash = oldestId.lastIndexOf('-');
        if (dash <= 0) {
            return false;
        }
        try {
            return numberedAtMost(id, oldestId.substring(0, dash), Long.parseLong(oldestId.substring(dash + 1)) - 1);
        } catch (NumberFormatException e) {
            return false; // a publisher's own id: no numbering to judge by
        }
    }

    /** Whether {@code id} is {@code <epoch>-<n>} with 1 ≤ n ≤ {@code last}. */
    private static boolean numberedAtMost(String id, String epoch, long last) {
        String prefix = epoch + "-";
        if (!id.startsWith(prefix)) {
            return false;
        }
        try {
            long seq = Long.parseLong(id.substring(prefix.length()));
            return seq >= 1 && seq <= last;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /** A {@code reset} notice: {@code {"lastEventId":"…","reason":"…"}}. */
    static byte[] reset(String lastId, String reason) {
        String json = "{\"lastEventId\":\"" + jsonEscape(lastId) + "\",\"reason\":\"" + reason + "\"}";
        return SseMessage.builder().event("reset").data(json).build().encode();
    }

    private static String jsonEscape(String s) {
        StringBuilder b = new StringBuilder(s.length() + 8);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.toString();
    }
}
