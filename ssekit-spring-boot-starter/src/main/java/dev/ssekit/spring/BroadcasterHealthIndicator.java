package dev.ssekit.spring;

import dev.ssekit.Broadcaster;
import dev.ssekit.BroadcasterStats;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/** UP with the broadcaster's figures while it runs; DOWN, with the same figures, once it is closed. */
final class BroadcasterHealthIndicator implements HealthIndicator {

    private final Broadcaster broadcaster;

    BroadcasterHealthIndicator(Broadcaster broadcaster) {
        this.broadcaster = broadcaster;
    }

    @Override
    public Health health() {
        BroadcasterStats s = broadcaster.stats();
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("connections", s.connections());
        details.put("published", s.published());
        details.put("delivered", s.delivered());
        details.put("dropped", s.dropped());
        s.evictions().forEach((reason, n) -> details.put("evictions." + reason.name().toLowerCase(Locale.ROOT), n));
        details.put("queuedBytes", s.queuedBytes());
        details.put("historySize", s.historySize());
        details.put("historyBytes", s.historyBytes());
        Health.Builder health = broadcaster.isClosed() ? Health.down().withDetail("closed", true) : Health.up();
        return health.withDetails(details).build();
    }
}
