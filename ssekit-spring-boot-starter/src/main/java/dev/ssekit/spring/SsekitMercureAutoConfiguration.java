package dev.ssekit.spring;

import dev.ssekit.mercure.MercureClient;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;

/**
 * Offers a {@link MercureClient} (ssekit-mercure) built from {@link SsekitMercureProperties} when
 * {@code ssekit.mercure.hub-url} is set, unless the application defines its own; absent otherwise.
 * The client is closed with the context (its subscriptions end, publishes in flight complete). A
 * property the client's builder refuses fails the start with a message naming {@code
 * ssekit.mercure} and the builder's reason.
 */
@AutoConfiguration
@ConditionalOnProperty(prefix = "ssekit.mercure", name = "hub-url")
@EnableConfigurationProperties(SsekitMercureProperties.class)
public final class SsekitMercureAutoConfiguration {

    /** Instantiated by Spring. */
    SsekitMercureAutoConfiguration() {
    }

    /**
     * The client.
     *
     * @throws IllegalArgumentException naming {@code ssekit.mercure} and the invalid or missing setting
     */
    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    MercureClient ssekitMercureClient(SsekitMercureProperties properties) {
        try {
            return properties.toBuilder().build();
        } catch (IllegalArgumentException e) {
            // the builder's message says it all; without the cause this is the root cause Spring reports
            throw new IllegalArgumentException("ssekit.mercure: " + e.getMessage());
        }
    }
}
