package dev.ssekit.spring;

import dev.ssekit.Broadcaster;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;

/**
 * Auto-configures a {@link Broadcaster} from {@link SsekitProperties} ({@code ssekit.*}) unless the
 * application defines its own, and closes every {@code Broadcaster} bean of the context before the
 * web server's graceful shutdown: open event streams never end by themselves, so without this the
 * server would wait its whole shutdown timeout for them, then cut them. Closing first sends each
 * subscriber the final {@code shutdown} event with a retry hint and ends its stream cleanly; the
 * stop waits until the subscribers have left, at most {@code ssekit.write-timeout} plus 5 s.
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

    /** Closes the broadcasters in a lifecycle phase that stops before the web server. */
    @Bean
    BroadcasterShutdown ssekitBroadcasterShutdown(ObjectProvider<Broadcaster> broadcasters, SsekitProperties properties) {
        return new BroadcasterShutdown(broadcasters, properties.getWriteTimeout().plusSeconds(5));
    }
}
