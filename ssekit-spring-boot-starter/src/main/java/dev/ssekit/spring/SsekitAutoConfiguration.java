package dev.ssekit.spring;

import dev.ssekit.Broadcaster;
import java.time.Duration;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;

/**
 * Auto-configures a {@link Broadcaster} from {@link SsekitProperties} ({@code ssekit.*}) unless the
 * application defines its own, and closes every {@code Broadcaster} bean of the context before the
 * web server's graceful shutdown: open event streams never end by themselves, so without this the
 * server would wait its whole shutdown timeout for them, then cut them. Closing first sends each
 * subscriber the final {@code shutdown} event with a retry hint and ends its stream cleanly; the
 * stop waits until the subscribers have left, at most {@code ssekit.write-timeout} plus 5 s and
 * always within Spring's {@code spring.lifecycle.timeout-per-shutdown-phase} (less a margin). A
 * subscriber that stopped reading is ended by the broadcaster's write timeout, which then falls in
 * the web server's graceful shutdown phase.
 *
 * <p>Exclude it ({@code @SpringBootApplication(exclude = SsekitAutoConfiguration.class)}) to do
 * without both.
 */
@AutoConfiguration
@EnableConfigurationProperties(SsekitProperties.class)
public final class SsekitAutoConfiguration {

    /** Instantiated by Spring. */
    SsekitAutoConfiguration() {
    }

    /**
     * The broadcaster, built from the properties; closed by {@link #ssekitBroadcasterShutdown} and,
     * as a last resort, when the context is destroyed.
     */
    @Bean
    @ConditionalOnMissingBean
    Broadcaster ssekitBroadcaster(SsekitProperties properties) {
        return properties.toBuilder().build();
    }

    /**
     * Closes the broadcasters in a lifecycle phase that stops before the web server, waiting at most
     * {@code ssekit.write-timeout} plus 5 s and never longer than {@link BroadcasterShutdown#waitBound}
     * of {@code spring.lifecycle.timeout-per-shutdown-phase} (default 30 s), so Spring never times
     * the phase out.
     */
    @Bean
    BroadcasterShutdown ssekitBroadcasterShutdown(ObjectProvider<Broadcaster> broadcasters, SsekitProperties properties,
            Environment environment) {
        Duration phase = Binder.get(environment).bind(BroadcasterShutdown.PHASE_TIMEOUT, Duration.class)
                .orElse(BroadcasterShutdown.DEFAULT_PHASE_TIMEOUT);
        return new BroadcasterShutdown(broadcasters, BroadcasterShutdown.waitBound(properties.getWriteTimeout(), phase), phase);
    }
}
