package dev.ssekit.hub;

import dev.ssekit.BroadcasterStats;
import dev.ssekit.CloseReason;
import java.util.Locale;
import java.util.Map;

/** The broadcaster's counters and gauges in the Prometheus text exposition format (version 0.0.4). */
final class Metrics {

    private Metrics() {
    }

    /**
     * Whether a request with this {@code Authorization} header may read {@code /metrics} on the public
     * port: only with {@code Bearer TOKEN} when a token is set (compared in constant time); never without one.
     */
    static boolean authorized(java.util.Optional<String> token, String authorization) {
        if (token.isEmpty() || authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return false;
        }
        return java.security.MessageDigest.isEqual(token.get().getBytes(java.nio.charset.StandardCharsets.UTF_8),
                authorization.substring(7).trim().getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    static String prometheus(BroadcasterStats s) {
        StringBuilder b = new StringBuilder(1024);
        metric(b, "ssekit_connections", "gauge", "Subscribers connected now.", s.connections());
        metric(b, "ssekit_published_total", "counter", "Events published.", s.published());
        metric(b, "ssekit_delivered_total", "counter", "Event deliveries written to subscribers.", s.delivered());
        b.append("# HELP ssekit_evictions_total Subscribers evicted, by reason.\n# TYPE ssekit_evictions_total counter\n");
        for (Map.Entry<CloseReason, Long> e : new java.util.TreeMap<>(s.evictions()).entrySet()) {
            b.append("ssekit_evictions_total{reason=\"").append(e.getKey().name().toLowerCase(Locale.ROOT)).append("\"} ")
                    .append(e.getValue()).append('\n');
        }
        metric(b, "ssekit_dropped_total", "counter", "Events dropped from slow subscribers' queues.", s.dropped());
        metric(b, "ssekit_queued_bytes", "gauge", "Bytes queued for subscribers, not yet written.", s.queuedBytes());
        metric(b, "ssekit_delivery_backlog", "gauge", "Events published, not yet handed to every delivery group.", s.backlog());
        metric(b, "ssekit_history_events", "gauge", "Events in history.", s.historySize());
        metric(b, "ssekit_history_bytes", "gauge", "Bytes in history.", s.historyBytes());
        process(b);
        return b.toString();
    }

    /** The process gauges a soak run watches: heap in use, live threads, open file descriptors. */
    private static void process(StringBuilder b) {
        metric(b, "jvm_memory_heap_used_bytes", "gauge", "Heap in use (not collected first).",
                java.lang.management.ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        metric(b, "jvm_threads_live", "gauge", "Live threads.", java.lang.management.ManagementFactory.getThreadMXBean().getThreadCount());
        if (java.lang.management.ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.UnixOperatingSystemMXBean unix) {
            metric(b, "process_open_fds", "gauge", "Open file descriptors.", unix.getOpenFileDescriptorCount());
            metric(b, "process_max_fds", "gauge", "The file descriptor limit.", unix.getMaxFileDescriptorCount());
        }
    }

    /** The served TLS certificate's end, when the hub serves TLS; empty otherwise. */
    static String tls(java.util.Optional<CertificateFiles> tls) {
        if (tls.isEmpty()) {
            return "";
        }
        StringBuilder b = new StringBuilder(256);
        metric(b, "ssekit_tls_certificate_expiry_seconds", "gauge", "When the served TLS certificate expires (notAfter), in Unix seconds.",
                tls.get().expiresAtEpochSecond());
        return b.toString();
    }

    private static void metric(StringBuilder b, String name, String type, String help, long value) {
        b.append("# HELP ").append(name).append(' ').append(help).append('\n')
                .append("# TYPE ").append(name).append(' ').append(type).append('\n')
                .append(name).append(' ').append(value).append('\n');
    }
}
