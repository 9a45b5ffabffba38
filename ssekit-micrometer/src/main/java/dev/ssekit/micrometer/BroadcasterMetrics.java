package dev.ssekit.micrometer;

import dev.ssekit.Broadcaster;
import dev.ssekit.BroadcasterStats;
import dev.ssekit.CloseReason;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.BaseUnits;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.Locale;
import java.util.Objects;
import java.util.function.ToLongFunction;

/**
 * Binds a {@link Broadcaster}'s {@link BroadcasterStats} to a Micrometer {@link MeterRegistry},
 * named by Micrometer's conventions (lowercase, dot-separated, with base units; each registry
 * renders them by its own naming convention):
 *
 * <table>
 * <caption>Meters</caption>
 * <tr><th>Name</th><th>Type</th><th>Base unit</th><th>What</th></tr>
 * <tr><td>{@code ssekit.connections}</td><td>gauge</td><td>connections</td><td>subscribers now</td></tr>
 * <tr><td>{@code ssekit.events.published}</td><td>function counter</td><td>events</td><td>events published</td></tr>
 * <tr><td>{@code ssekit.events.delivered}</td><td>function counter</td><td>events</td><td>deliveries written to
 *     subscribers, one per event per subscriber, replays included</td></tr>
 * <tr><td>{@code ssekit.events.dropped}</td><td>function counter</td><td>events</td><td>events dropped from
 *     queues under {@code DROP_OLDEST}</td></tr>
 * <tr><td>{@code ssekit.evictions}</td><td>function counter</td><td>connections</td><td>subscribers evicted,
 *     tagged {@code reason=slow_consumer} or {@code reason=write_timeout}</td></tr>
 * <tr><td>{@code ssekit.queued}</td><td>gauge</td><td>bytes</td><td>bytes queued for subscribers, not yet
 *     written</td></tr>
 * <tr><td>{@code ssekit.history.size}</td><td>gauge</td><td>events</td><td>events in history</td></tr>
 * <tr><td>{@code ssekit.history.data.size}</td><td>gauge</td><td>bytes</td><td>bytes in history</td></tr>
 * </table>
 *
 * <p>Every meter carries the tags given to the constructor (e.g. {@code broadcaster=prices} when an
 * application has several). Each reading takes a fresh {@link Broadcaster#stats()}; the meters hold
 * the broadcaster weakly, as Micrometer's gauges do, and keep reporting after it is closed.
 *
 * <pre>{@code
 * new BroadcasterMetrics(hub, Tags.of("broadcaster", "prices")).bindTo(registry);
 * }</pre>
 *
 * <p>Thread-safe: {@link #bindTo} may be called for several registries, from any thread.
 */
public final class BroadcasterMetrics implements MeterBinder {

    private final Broadcaster broadcaster;
    private final Tags tags;

    /**
     * Meters without extra tags.
     *
     * @param broadcaster the broadcaster to measure
     * @throws NullPointerException if {@code broadcaster} is null
     */
    public BroadcasterMetrics(Broadcaster broadcaster) {
        this(broadcaster, Tags.empty());
    }

    /**
     * Meters carrying {@code tags}.
     *
     * @param broadcaster the broadcaster to measure
     * @param tags added to every meter
     * @throws NullPointerException if an argument is null
     */
    public BroadcasterMetrics(Broadcaster broadcaster, Iterable<Tag> tags) {
        this.broadcaster = Objects.requireNonNull(broadcaster, "broadcaster");
        this.tags = Tags.of(Objects.requireNonNull(tags, "tags"));
    }

    /**
     * Registers the meters in the table above with {@code registry}.
     *
     * @param registry the registry
     * @throws NullPointerException if {@code registry} is null
     */
    @Override
    public void bindTo(MeterRegistry registry) {
        Objects.requireNonNull(registry, "registry");
        gauge(registry, "ssekit.connections", BaseUnits.CONNECTIONS, "Subscribers connected now.",
                BroadcasterStats::connections);
        counter(registry, "ssekit.events.published", Tags.empty(), BaseUnits.EVENTS, "Events published.",
                BroadcasterStats::published);
        counter(registry, "ssekit.events.delivered", Tags.empty(), BaseUnits.EVENTS,
                "Event deliveries written to subscribers, one per event per subscriber.", BroadcasterStats::delivered);
        counter(registry, "ssekit.events.dropped", Tags.empty(), BaseUnits.EVENTS,
                "Events dropped from slow subscribers' queues.", BroadcasterStats::dropped);
        for (CloseReason reason : broadcaster.stats().evictions().keySet()) {
            counter(registry, "ssekit.evictions", Tags.of("reason", reason.name().toLowerCase(Locale.ROOT)),
                    BaseUnits.CONNECTIONS, "Subscribers the broadcaster evicted, by reason.",
                    s -> s.evictions().getOrDefault(reason, 0L));
        }
        gauge(registry, "ssekit.queued", BaseUnits.BYTES, "Bytes queued for subscribers, not yet written.",
                BroadcasterStats::queuedBytes);
        gauge(registry, "ssekit.delivery.backlog", BaseUnits.EVENTS,
                "Events published, not yet handed to every delivery group.", BroadcasterStats::backlog);
        gauge(registry, "ssekit.history.size", BaseUnits.EVENTS, "Events in history.", BroadcasterStats::historySize);
        gauge(registry, "ssekit.history.data.size", BaseUnits.BYTES, "Bytes in history.",
                BroadcasterStats::historyBytes);
    }

    private void gauge(MeterRegistry registry, String name, String unit, String description,
            ToLongFunction<BroadcasterStats> value) {
        Gauge.builder(name, broadcaster, b -> value.applyAsLong(b.stats()))
                .tags(tags).baseUnit(unit).description(description).register(registry);
    }

    private void counter(MeterRegistry registry, String name, Tags extra, String unit, String description,
            ToLongFunction<BroadcasterStats> value) {
        FunctionCounter.builder(name, broadcaster, b -> value.applyAsLong(b.stats()))
                .tags(tags.and(extra)).baseUnit(unit).description(description).register(registry);
    }
}
