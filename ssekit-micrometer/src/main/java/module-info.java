/**
 * Micrometer meters for ssekit: {@link dev.ssekit.micrometer.BroadcasterMetrics} binds a {@link
 * dev.ssekit.Broadcaster}'s counters and gauges to a {@code MeterRegistry}. Needs no Spring.
 */
@SuppressWarnings({"requires-automatic", "requires-transitive-automatic"}) // Micrometer has only an automatic module name
module dev.ssekit.micrometer {
    requires transitive dev.ssekit;
    requires transitive micrometer.core;

    exports dev.ssekit.micrometer;
}
