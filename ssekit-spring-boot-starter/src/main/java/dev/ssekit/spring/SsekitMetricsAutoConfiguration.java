package dev.ssekit.spring;

import dev.ssekit.Broadcaster;
import dev.ssekit.micrometer.BroadcasterMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import java.util.List;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnSingleCandidate;
import org.springframework.context.annotation.Bean;

/**
 * Auto-configures {@link BroadcasterMetrics} for the application's broadcaster when Micrometer is
 * on the classpath and a {@link MeterRegistry} bean exists (Spring Boot binds every {@code
 * MeterBinder} bean to its registries), tagged with {@code ssekit.metrics.tags.*}.
 */
@AutoConfiguration(after = SsekitAutoConfiguration.class, afterName = {
    "org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration",
    "org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration"})
@ConditionalOnClass({MeterRegistry.class, BroadcasterMetrics.class})
@ConditionalOnBean(MeterRegistry.class)
@ConditionalOnSingleCandidate(Broadcaster.class)
public final class SsekitMetricsAutoConfiguration {

    /** Instantiated by Spring. */
    SsekitMetricsAutoConfiguration() {
    }

    /** The meters of the broadcaster. */
    @Bean
    @ConditionalOnMissingBean
    BroadcasterMetrics ssekitBroadcasterMetrics(Broadcaster broadcaster, SsekitProperties properties) {
        List<Tag> tags = properties.getMetrics().getTags().entrySet().stream()
                .map(e -> Tag.of(e.getKey(), e.getValue())).toList();
        return new BroadcasterMetrics(broadcaster, tags);
    }
}
