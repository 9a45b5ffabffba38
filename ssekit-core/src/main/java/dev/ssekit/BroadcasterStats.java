package dev.ssekit;

import java.util.Map;

/**
 * A snapshot of a {@link Broadcaster}'s counters and gauges, for the hub and metrics exporters.
 *
 * @param connections subscribers now (gauge)
 * @param published events published since start (counter)
 * @param delivered event deliveries written to subscribers' connections, one per event per
 *     subscriber, replays included (counter)
 * @param evictions subscribers the broadcaster closed, by reason: {@link CloseReason#SLOW_CONSUMER}
 *     and {@link CloseReason#WRITE_TIMEOUT} (counters)
 * @param dropped events dropped from queues under {@link SlowConsumerPolicy#DROP_OLDEST} (counter)
 * @param queuedBytes bytes queued for all subscribers and not yet written (gauge)
 * @param historySize events in history (gauge)
 * @param historyBytes bytes in history (gauge)
 * @param backlog events published but not yet handed to every delivery group's subscribers,
 *     summed over the groups (gauge; each group holds at most {@link
 *     Broadcaster.Builder#deliveryBacklog})
 */
public record BroadcasterStats(long connections, long published, long delivered, Map<CloseReason, Long> evictions,
        long dropped, long queuedBytes, long historySize, long historyBytes, long backlog) {

    /** Copies the map. */
    public BroadcasterStats {
        evictions = Map.copyOf(evictions);
    }
}
