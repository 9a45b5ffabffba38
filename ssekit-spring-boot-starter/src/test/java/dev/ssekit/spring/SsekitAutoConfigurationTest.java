package dev.ssekit.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ssekit.Broadcaster;
import dev.ssekit.SlowConsumerPolicy;
import dev.ssekit.SseMessage;
import dev.ssekit.micrometer.BroadcasterMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.InputStream;
import java.net.URL;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.util.unit.DataSize;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

/** The auto-configuration in real (non-web) application contexts: properties, conditions, meters, health. */
@Timeout(60)
class SsekitAutoConfigurationTest {

    private final ApplicationContextRunner runner = new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(
            SsekitAutoConfiguration.class, SsekitMetricsAutoConfiguration.class, SsekitHealthAutoConfiguration.class));

    @Test
    void defaultsAreTheBuildersDefaults() {
        runner.run(ctx -> {
            assertThat(ctx).hasSingleBean(Broadcaster.class).hasSingleBean(BroadcasterShutdown.class);
            SsekitProperties p = ctx.getBean(SsekitProperties.class);
            // the values Broadcaster.builder() documents
            assertThat(p.getHeartbeat()).isEqualTo(Duration.ofSeconds(15));
            assertThat(p.getWriteTimeout()).isEqualTo(Duration.ofSeconds(30));
            assertThat(p.getMaxQueuedBytes()).isEqualTo(DataSize.ofBytes(1L << 20));
            assertThat(p.getSlowConsumerPolicy()).isEqualTo(SlowConsumerPolicy.DISCONNECT);
            assertThat(p.getShutdownRetry()).isEqualTo(Duration.ofSeconds(1));
            assertThat(p.getHistory().getMaxEvents()).isEqualTo(10_000);
            assertThat(p.getHistory().getMaxBytes()).isEqualTo(DataSize.ofBytes(16L << 20));
            assertThat(p.getHistory().getMaxAge()).isEqualTo(Duration.ofHours(1));
            // no MeterRegistry: no meters
            assertThat(ctx).doesNotHaveBean(BroadcasterMetrics.class);
        });
    }

    @Test
    void propertiesConfigureTheBroadcaster() {
        runner.withPropertyValues("ssekit.heartbeat=5s", "ssekit.write-timeout=2s", "ssekit.max-queued-bytes=64KB",
                "ssekit.slow-consumer-policy=drop-oldest", "ssekit.shutdown-retry=250ms", "ssekit.history.max-events=2",
                "ssekit.history.max-bytes=1MB", "ssekit.history.max-age=10m", "ssekit.delivery-backlog=64").run(ctx -> {
                    SsekitProperties p = ctx.getBean(SsekitProperties.class);
                    assertThat(p.getHeartbeat()).isEqualTo(Duration.ofSeconds(5));
                    assertThat(p.getWriteTimeout()).isEqualTo(Duration.ofSeconds(2));
                    assertThat(p.getMaxQueuedBytes()).isEqualTo(DataSize.ofKilobytes(64));
                    assertThat(p.getSlowConsumerPolicy()).isEqualTo(SlowConsumerPolicy.DROP_OLDEST);
                    assertThat(p.getShutdownRetry()).isEqualTo(Duration.ofMillis(250));
                    assertThat(p.getDeliveryBacklog()).isEqualTo(64);
                    assertThat(p.getHistory().getMaxBytes()).isEqualTo(DataSize.ofMegabytes(1));
                    assertThat(p.getHistory().getMaxAge()).isEqualTo(Duration.ofMinutes(10));
                    // the broadcaster bean was built from them: its history keeps the newest two
                    Broadcaster hub = ctx.getBean(Broadcaster.class);
                    for (int i = 0; i < 3; i++) {
                        hub.publish(SseMessage.of("e" + i), "t");
                    }
                    assertThat(hub.stats().historySize()).isEqualTo(2);
                });
    }

    @Test
    void anOutOfRangePropertyFailsStartupNamingIt() {
        List<String> expected = List.of(
                "ssekit.heartbeat=0s", "ssekit.heartbeat must be positive: PT0S",
                "ssekit.write-timeout=-1s", "ssekit.write-timeout must be positive: PT-1S",
                "ssekit.max-queued-bytes=0B", "ssekit.max-queued-bytes must be at least 1 byte: 0B",
                "ssekit.delivery-backlog=0", "ssekit.delivery-backlog must be at least 1: 0",
                "ssekit.shutdown-retry=-1ms", "ssekit.shutdown-retry must not be negative: PT-0.001S",
                "ssekit.history.max-events=0", "ssekit.history.max-events must be at least 1: 0",
                "ssekit.history.max-bytes=0B", "ssekit.history.max-bytes must be at least 1 byte: 0B",
                "ssekit.history.max-age=0s", "ssekit.history.max-age must be positive: PT0S");
        for (int i = 0; i < expected.size(); i += 2) {
            String message = expected.get(i + 1);
            runner.withPropertyValues(expected.get(i)).run(ctx -> assertThat(ctx).hasFailed().getFailure()
                    .rootCause().isInstanceOf(IllegalArgumentException.class).hasMessage(message));
        }
    }

    @Test
    void anApplicationsOwnBroadcasterReplacesTheAutoConfiguredOneAndIsClosedAtShutdown() {
        Broadcaster own = Broadcaster.builder().history(1, 1024, Duration.ofMinutes(1)).build();
        runner.withBean("myBroadcaster", Broadcaster.class, () -> own).run(ctx -> {
            assertThat(ctx).hasSingleBean(Broadcaster.class);
            assertThat(ctx.getBean(Broadcaster.class)).isSameAs(own);
            assertThat(ctx).hasBean("ssekitHealthIndicator");
        });
        assertThat(own.isClosed()).isTrue();
    }

    @Test
    void metersAreBoundWhenAMeterRegistryExists() {
        runner.withConfiguration(AutoConfigurations.of(MetricsAutoConfiguration.class,
                CompositeMeterRegistryAutoConfiguration.class))
                .withBean(MeterRegistry.class, SimpleMeterRegistry::new)
                .withPropertyValues("ssekit.metrics.tags.broadcaster=prices", "ssekit.metrics.tags.region=eu")
                .run(ctx -> {
                    assertThat(ctx).hasSingleBean(BroadcasterMetrics.class);
                    MeterRegistry registry = ctx.getBean(MeterRegistry.class);
                    ctx.getBean(Broadcaster.class).publish(SseMessage.of("x"), "t");
                    assertThat(registry.get("ssekit.events.published").tag("broadcaster", "prices").tag("region", "eu")
                            .functionCounter().count()).isEqualTo(1);
                    assertThat(registry.get("ssekit.history.size").gauge().value()).isEqualTo(1);
                });
    }

    @Test
    void healthIsUpWithFiguresThenDownOnceClosed() {
        runner.run(ctx -> {
            HealthIndicator indicator = ctx.getBean("ssekitHealthIndicator", HealthIndicator.class);
            Broadcaster hub = ctx.getBean(Broadcaster.class);
            hub.publish(SseMessage.of("x"), "t");
            Health up = indicator.health();
            assertThat(up.getStatus()).isEqualTo(Status.UP);
            assertThat(up.getDetails()).containsEntry("connections", 0L).containsEntry("published", 1L)
                    .containsEntry("historySize", 1L).containsEntry("evictions.slow_consumer", 0L)
                    .containsKeys("delivered", "dropped", "queuedBytes", "historyBytes", "evictions.write_timeout");
            hub.close();
            Health down = indicator.health();
            assertThat(down.getStatus()).isEqualTo(Status.DOWN);
            assertThat(down.getDetails()).containsEntry("closed", true).containsEntry("published", 1L);
        });
    }

    @Test
    void theHealthIndicatorCanBeDisabled() {
        runner.withPropertyValues("management.health.ssekit.enabled=false")
                .run(ctx -> assertThat(ctx).doesNotHaveBean("ssekitHealthIndicator").hasSingleBean(Broadcaster.class));
    }

    @Test
    void withTwoBroadcastersNeitherMetersNorHealthGuessAndBothAreClosed() {
        Broadcaster a = Broadcaster.create();
        Broadcaster b = Broadcaster.create();
        runner.withBean("a", Broadcaster.class, () -> a).withBean("b", Broadcaster.class, () -> b)
                .withBean(MeterRegistry.class, SimpleMeterRegistry::new)
                .run(ctx -> assertThat(ctx).doesNotHaveBean("ssekitHealthIndicator").doesNotHaveBean(BroadcasterMetrics.class));
        assertThat(a.isClosed()).isTrue();
        assertThat(b.isClosed()).isTrue();
    }

    /** A stopped context closed its broadcasters for good: starting it again fails loudly, not silently. */
    @Test
    void aStoppedContextDoesNotRestartWithClosedBroadcasters() {
        runner.run(ctx -> {
            Broadcaster b = ctx.getBean(Broadcaster.class);
            ctx.stop();
            assertThat(b.isClosed()).isTrue();
            assertThatThrownBy(ctx::start).hasRootCauseInstanceOf(IllegalStateException.class)
                    .rootCause().hasMessageContaining("cannot reopen");
        });
    }

    @Test
    void theShutdownPhaseIsAboveTheWebServersGracefulShutdown() {
        assertThat(BroadcasterShutdown.PHASE).isGreaterThan(WebServerApplicationContext.GRACEFUL_SHUTDOWN_PHASE);
    }

    @Test
    void theConfigurationMetadataListsEveryProperty() throws Exception {
        // this module's own file, not another jar's of the same name
        URL url = null;
        for (URL u : java.util.Collections.list(getClass().getClassLoader().getResources("META-INF/spring-configuration-metadata.json"))) {
            if (u.toString().contains("ssekit-spring-boot-starter")) {
                url = u;
            }
        }
        assertThat(url).as("ssekit's spring-configuration-metadata.json on the classpath").isNotNull();
        JsonNode root;
        try (InputStream in = url.openStream()) {
            root = new ObjectMapper().readTree(in);
        }
        List<String> names = new ArrayList<>();
        Map<String, String> defaults = new java.util.HashMap<>();
        for (JsonNode p : root.get("properties")) {
            names.add(p.get("name").asString());
            assertThat(p.get("description").asString()).as(p.get("name").asString()).isNotBlank();
            if (p.has("defaultValue")) {
                defaults.put(p.get("name").asString(), p.get("defaultValue").asString());
            }
        }
        assertThat(names).containsExactlyInAnyOrder("ssekit.heartbeat", "ssekit.write-timeout",
                "ssekit.max-queued-bytes", "ssekit.slow-consumer-policy", "ssekit.shutdown-retry",
                "ssekit.delivery-backlog", "ssekit.history.max-events", "ssekit.history.max-bytes", "ssekit.history.max-age", "ssekit.metrics.tags",
                "ssekit.mercure.hub-url", "ssekit.mercure.issuer", "ssekit.mercure.key", "ssekit.mercure.audience",
                "ssekit.mercure.algorithm", "ssekit.mercure.key-id", "ssekit.mercure.client-id", "ssekit.mercure.subject",
                "ssekit.mercure.token-ttl", "ssekit.mercure.request-timeout");
        assertThat(defaults).containsEntry("ssekit.heartbeat", "15s").containsEntry("ssekit.write-timeout", "30s")
                .containsEntry("ssekit.max-queued-bytes", "1MB").containsEntry("ssekit.slow-consumer-policy", "disconnect")
                .containsEntry("ssekit.shutdown-retry", "1s").containsEntry("ssekit.history.max-events", "10000")
                .containsEntry("ssekit.delivery-backlog", "1024")
                .containsEntry("ssekit.history.max-bytes", "16MB").containsEntry("ssekit.history.max-age", "1h");
    }
}
