package dev.ssekit.spring;

import dev.ssekit.Broadcaster;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnSingleCandidate;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;

/**
 * Auto-configures the {@code ssekit} health indicator when Spring Boot's health support (Actuator)
 * is on the classpath and {@code management.health.ssekit.enabled} is not false: UP with the
 * broadcaster's figures as details while it runs, DOWN once it is closed.
 */
@AutoConfiguration(after = SsekitAutoConfiguration.class,
        beforeName = "org.springframework.boot.health.autoconfigure.contributor.HealthContributorAutoConfiguration")
@ConditionalOnClass(HealthIndicator.class)
@ConditionalOnEnabledHealthIndicator("ssekit")
@ConditionalOnSingleCandidate(Broadcaster.class)
public final class SsekitHealthAutoConfiguration {

    /** Instantiated by Spring. */
    SsekitHealthAutoConfiguration() {
    }

    /** The indicator; its bean name makes its health contributor name {@code ssekit}. */
    @Bean
    @ConditionalOnMissingBean(name = "ssekitHealthIndicator")
    HealthIndicator ssekitHealthIndicator(Broadcaster broadcaster) {
        return new BroadcasterHealthIndicator(broadcaster);
    }
}
