package dev.ssekit.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ssekit.mercure.MercureClient;
import dev.ssekit.mercure.MercureException;
import dev.ssekit.mercure.ReceivedUpdate;
import dev.ssekit.mercure.Subscription;
import dev.ssekit.mercure.SubscriptionListener;
import dev.ssekit.mercure.Update;
import dev.ssekit.testkit.HubJvm;
import java.net.URI;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * The MercureClient bean in real (non-web) application contexts: absent without {@code ssekit.mercure.hub-url},
 * refused with the builder's message when incomplete, and publishing to and subscribing at the real hub (its own JVM,
 * Mercure 1.0 mode, {@link HubJvm}) when configured.
 */
@Timeout(90)
class SsekitMercureAutoConfigurationTest {

    private static final String ISSUER = "https://app.example";
    private static final String KEY = "!ChangeThisMercureHubJWTSecretKey!";

    private final ApplicationContextRunner runner = new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(
            SsekitAutoConfiguration.class, SsekitMercureAutoConfiguration.class));

    @TempDir
    Path data;

    @Test
    void noHubUrlNoClient() {
        runner.run(ctx -> assertThat(ctx).hasNotFailed().doesNotHaveBean(MercureClient.class)
                .doesNotHaveBean(SsekitMercureProperties.class));
        runner.withPropertyValues("ssekit.mercure.issuer=" + ISSUER, "ssekit.mercure.key=" + KEY)
                .run(ctx -> assertThat(ctx).hasNotFailed().doesNotHaveBean(MercureClient.class));
    }

    @Test
    void anIncompleteConfigurationFailsTheStartNamingTheSetting() {
        runner.withPropertyValues("ssekit.mercure.hub-url=http://127.0.0.1:9/.well-known/mercure", "ssekit.mercure.key=" + KEY)
                .run(ctx -> assertThat(ctx).hasFailed().getFailure().rootCause()
                        .hasMessageStartingWith("ssekit.mercure: issuer is required with a key"));
        runner.withPropertyValues("ssekit.mercure.hub-url=http://127.0.0.1:9/.well-known/mercure",
                "ssekit.mercure.issuer=" + ISSUER, "ssekit.mercure.key=short")
                .run(ctx -> assertThat(ctx).hasFailed().getFailure().rootCause()
                        .hasMessage("ssekit.mercure: key: an HS256 secret must have at least 32 bytes, this one has 5"));
        runner.withPropertyValues("ssekit.mercure.hub-url=http://127.0.0.1:9/.well-known/mercure",
                "ssekit.mercure.issuer=" + ISSUER, "ssekit.mercure.key=" + KEY, "ssekit.mercure.token-ttl=0s")
                .run(ctx -> assertThat(ctx).hasFailed().getFailure().rootCause()
                        .hasMessage("ssekit.mercure: ttl must be at least 1 s: PT0S"));
    }

    @Test
    void theBeanPublishesToAndSubscribesAtTheHubAndClosesWithTheContext() throws Exception {
        try (HubJvm hub = HubJvm.start("--data", data.toString(), "--issuer", ISSUER, "--publisher-jwt-key", KEY)) {
            URI url = hub.url();
            AtomicReference<MercureClient> closedWithTheContext = new AtomicReference<>();
            runner.withPropertyValues("ssekit.mercure.hub-url=" + url, "ssekit.mercure.issuer=" + ISSUER,
                    "ssekit.mercure.key=" + KEY, "ssekit.mercure.client-id=books-service", "ssekit.mercure.token-ttl=10m")
                    .run(ctx -> {
                        assertThat(ctx).hasSingleBean(MercureClient.class);
                        MercureClient client = ctx.getBean(MercureClient.class);
                        closedWithTheContext.set(client);
                        assertThat(client.hubUrl()).isEqualTo(url);
                        LinkedBlockingQueue<ReceivedUpdate> got = new LinkedBlockingQueue<>();
                        LinkedBlockingQueue<Boolean> open = new LinkedBlockingQueue<>();
                        try (Subscription s = client.subscription().matchUrlPattern("https://example.com/books/:id")
                                .start(new SubscriptionListener() {
                                    @Override
                                    public void onOpen(Optional<String> resumedFrom) {
                                        open.add(true);
                                    }

                                    @Override
                                    public void onUpdate(ReceivedUpdate update) {
                                        got.add(update);
                                    }
                                })) {
                            assertThat(open.poll(15, TimeUnit.SECONDS)).as("subscribed").isTrue();
                            String id = client.publish(Update.builder("https://example.com/books/7").data("{\"id\":7}")
                                    .privateUpdate(true).build());
                            ReceivedUpdate u = got.poll(10, TimeUnit.SECONDS);
                            assertThat(u).isEqualTo(new ReceivedUpdate(id, "message", "{\"id\":7}"));
                            assertThat(s.lastEventId()).isEqualTo(id);
                        }
                    });
            assertThatThrownBy(() -> closedWithTheContext.get().publish(Update.of("https://example.com/books/7", "x")))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
            // a wrong key configured: the typed refusal reaches the application
            runner.withPropertyValues("ssekit.mercure.hub-url=" + url, "ssekit.mercure.issuer=" + ISSUER,
                    "ssekit.mercure.key=not the hub's key but 32 bytes long")
                    .run(ctx -> assertThatThrownBy(() -> ctx.getBean(MercureClient.class)
                            .publish(Update.of("https://example.com/books/7", "x")))
                            .isInstanceOfSatisfying(MercureException.class, e -> {
                                assertThat(e.status()).isEqualTo(401);
                                assertThat(e.error()).contains("invalid_token");
                            }));
        }
    }
}
