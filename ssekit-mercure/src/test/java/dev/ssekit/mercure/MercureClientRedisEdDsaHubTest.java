package dev.ssekit.mercure;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.ssekit.testkit.RedisServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link MercureClient} against the real hub (its own JVM) configured as a production hub often is:
 * an Ed25519 public key as {@code --publisher-jwt-key} (EdDSA tokens, minted by {@link TokenMinter}
 * on the JDK's Ed25519) and its history in a real {@code redis-server} ({@code --redis}), where the
 * hub keeps {@code Idempotency-Key}s.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class MercureClientRedisEdDsaHubTest {

    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    static Path dir;
    static RedisServer redis;
    static HubUnderTest hub;
    static KeyPair ed25519;

    private final String base = "https://example.com/" + UUID.randomUUID() + "/";

    @BeforeAll
    static void start() throws IOException, NoSuchAlgorithmException {
        ed25519 = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        String publicPem = "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(UTF_8))
                .encodeToString(ed25519.getPublic().getEncoded()) + "\n-----END PUBLIC KEY-----\n";
        redis = RedisServer.start(Files.createDirectories(dir.resolve("redis")));
        hub = HubUnderTest.startWithKey(Files.createDirectories(dir.resolve("hub")), publicPem, "--redis", redis.uri());
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            if (hub != null) {
                hub.close();
            }
        } finally {
            if (redis != null) {
                redis.close();
            }
        }
    }

    private static MercureClient.Builder eddsaClient() {
        return MercureClient.builder(hub.url()).issuer(HubUnderTest.ISSUER).key(TokenMinterTest.pem(ed25519));
    }

    @Test
    void eddsaTokensMintedFromAPemKeyPublishAndSubscribe() throws Exception {
        try (MercureClient client = eddsaClient().build()) {
            Recorder r = new Recorder();
            // a private update: only a subscriber whose EdDSA token the hub verified receives it
            try (Subscription s = client.subscription().match(base + "books/1").start(r)) {
                r.awaitOpen();
                String id = client.publish(Update.builder(base + "books/1").data("signed with Ed25519").privateUpdate(true).build());
                assertThat(r.next(WAIT)).isEqualTo(new ReceivedUpdate(id, "message", "signed with Ed25519"));
                assertThat(s.lastEventId()).isEqualTo(id);
            }
        }
        // the hub verifies with the Ed25519 key: an HS256 token, or one of another Ed25519 key, is invalid_token
        try (MercureClient hmac = hub.client().build();
                MercureClient otherKey = MercureClient.builder(hub.url()).issuer(HubUnderTest.ISSUER)
                        .key(KeyPairGenerator.getInstance("Ed25519").generateKeyPair().getPrivate()).build()) {
            for (MercureClient wrong : List.of(hmac, otherKey)) {
                MercureException e = catchThrowableOfType(MercureException.class,
                        () -> wrong.publish(Update.of(base + "books/1", "x")));
                assertThat(e.status()).isEqualTo(401);
                assertThat(e.error()).contains("invalid_token");
            }
        }
    }

    @Test
    void aPublishRetriedWithTheSameIdempotencyKeyIsOneUpdateWithTheSameId() throws Exception {
        try (MercureClient client = eddsaClient().build()) {
            String first;
            String other;
            Recorder live = new Recorder();
            try (Subscription s = client.subscription().match(base + "orders").start(live)) {
                live.awaitOpen();
                Update update = Update.builder(base + "orders").data("order 42 paid").idempotencyKey("order-42-" + UUID.randomUUID())
                        .build();
                first = client.publish(update);
                // a retry after an unknown outcome (a timeout, a 504): the same request, the same key
                assertThat(client.publish(update)).as("the retry's answer: the first id").isEqualTo(first);
                assertThat(client.publishAsync(update).get(10, TimeUnit.SECONDS)).isEqualTo(first);
                // the same key naming other content is no retry: refused, nothing published
                MercureException conflict = catchThrowableOfType(MercureException.class, () -> client.publish(
                        Update.builder(base + "orders").data("order 42 refunded").idempotencyKey(update.idempotencyKey().get())
                                .build()));
                assertThat(conflict.status()).isEqualTo(409);
                // the same content under another key is another update
                other = client.publish(Update.builder(base + "orders").data("order 42 paid")
                        .idempotencyKey("order-43-" + UUID.randomUUID()).build());
                assertThat(other).isNotEqualTo(first);
                client.publish(Update.of(base + "orders", "end"));
                assertThat(live.until("end", WAIT)).as("delivered live: the keyed update once")
                        .containsExactly(new ReceivedUpdate(first, "message", "order 42 paid"),
                                new ReceivedUpdate(other, "message", "order 42 paid"));
                assertThat(s.lastEventId()).isNotEqualTo(first);
            }
            // and stored once: a replay of everything the hub holds on the topic
            Recorder replay = new Recorder();
            try (Subscription s = client.subscription().match(base + "orders").lastEventId("earliest").start(replay)) {
                assertThat(replay.until("end", WAIT)).extracting(ReceivedUpdate::id).as("in Redis' history")
                        .containsExactly(first, other);
                assertThat(s.resumedFrom()).as("Mercure-Last-Event-ID for earliest").contains("earliest");
            }
        }
    }
}
