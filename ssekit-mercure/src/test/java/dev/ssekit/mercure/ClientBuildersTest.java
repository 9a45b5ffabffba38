package dev.ssekit.mercure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What the builders of {@link Update}, {@link MercureClient} and {@link Subscription} refuse, and how they encode. */
class ClientBuildersTest {

    private static final URI HUB = URI.create("http://127.0.0.1:9/.well-known/mercure");

    @Test
    void updatesRefuseWhatAHubMustRefuseNamingTheSetting() {
        assertThatThrownBy(() -> Update.of("", "x")).hasMessage("topic must not be empty");
        assertThatThrownBy(() -> Update.of("*", "x")).hasMessageStartingWith("topic must not be \"*\"");
        assertThatThrownBy(() -> Update.of("urn:a\nb", "x")).hasMessageStartingWith("topic must not hold control");
        assertThatThrownBy(() -> Update.builder("urn:a").id("#frag").build())
                .hasMessage("id must not be empty, start with # or be \"earliest\": \"#frag\"");
        assertThatThrownBy(() -> Update.builder("urn:a").id("earliest").build()).hasMessageStartingWith("id must not");
        assertThatThrownBy(() -> Update.builder("urn:a").type("mercure").build())
                .hasMessage("type must not be empty or \"mercure\" (the hub's own events): \"mercure\"");
        assertThatThrownBy(() -> Update.builder("urn:a").retry(Duration.ofMillis(-1)).build())
                .hasMessage("retry must not be negative: PT-0.001S");
        assertThatThrownBy(() -> Update.builder("urn:a").idempotencyKey("a b").build())
                .hasMessage("idempotencyKey must be 1 to 256 printable ASCII characters: \"a b\"");
        // the hub's bound (MercureProtocol.MAX_IDEMPOTENCY_KEY_BYTES): 256 characters pass, 257 do not
        assertThat(Update.builder("urn:a").idempotencyKey("k".repeat(256)).build().idempotencyKey()).hasValue("k".repeat(256));
        assertThatThrownBy(() -> Update.builder("urn:a").idempotencyKey("k".repeat(257)).build())
                .hasMessageStartingWith("idempotencyKey must be 1 to 256 printable ASCII characters");
        Update u = Update.builder("urn:a").alternateTopic("urn:b").data("d").privateUpdate(true).build();
        assertThat(u.topics()).containsExactly("urn:a", "urn:b");
        assertThat(u.isPrivate()).isTrue();
        assertThat(u.id()).isEmpty();
    }

    @Test
    void clientsRefuseIncompleteOrConflictingAuthentication() {
        assertThatThrownBy(() -> MercureClient.builder(URI.create("ftp://h/x")).build())
                .hasMessage("hubUrl must be an http or https URL with a host: \"ftp://h/x\"");
        assertThatThrownBy(() -> MercureClient.builder(HUB).key("!ChangeThisMercureHubJWTSecretKey!").build())
                .hasMessageStartingWith("issuer is required with a key");
        assertThatThrownBy(() -> MercureClient.builder(HUB).issuer("https://i").build())
                .hasMessageStartingWith("key is required with issuer \"https://i\"");
        assertThatThrownBy(() -> MercureClient.builder(HUB).issuer("https://i").key("!ChangeThisMercureHubJWTSecretKey!")
                .tokenSupplier(() -> "t").build()).hasMessageStartingWith("choose one way to authenticate");
        assertThatThrownBy(() -> MercureClient.builder(HUB).audience("a").build())
                .hasMessageStartingWith("audience, algorithm, keyId, clientId, subject and tokenTtl are settings of minted tokens");
        assertThatThrownBy(() -> MercureClient.builder(HUB).requestTimeout(Duration.ZERO).build())
                .hasMessage("requestTimeout must be positive: PT0S");
        assertThatThrownBy(() -> MercureClient.builder(HUB).issuer("https://i").key("short").build())
                .hasMessage("key: an HS256 secret must have at least 32 bytes, this one has 5");
    }

    @Test
    void subscriptionsEncodeTheirMatchersAndRefuseNone() {
        assertThat(Subscription.Builder.uri(HUB, List.of(TopicMatcher.exact("https://example.com/a b"),
                TopicMatcher.urlPattern("/books/:id"), TopicMatcher.any())).toString())
                .isEqualTo(HUB + "?match=https%3A%2F%2Fexample.com%2Fa+b&match_urlpattern=%2Fbooks%2F%3Aid&match=*");
        assertThat(Subscription.Builder.uri(URI.create("http://h/hub?x=1#f"), List.of(TopicMatcher.exact("t"))))
                .hasToString("http://h/hub?x=1&match=t");
        try (MercureClient client = MercureClient.builder(HUB).build()) {
            assertThatThrownBy(() -> client.subscription().start(new Recorder()))
                    .hasMessage("matchers: give at least one (match, matchUrlPattern)");
            assertThatThrownBy(() -> client.subscription().match("t").lastEventId("é").start(new Recorder()))
                    .hasMessage("lastEventId must be printable ASCII (sent as a header): \"é\"");
        }
    }

    @Test
    void bearerChallengesAreParsed() {
        assertThat(BearerChallenge.parse("Bearer error=\"invalid_token\", resource_metadata=\"https://h/x\"").params())
                .containsEntry("error", "invalid_token").containsEntry("resource_metadata", "https://h/x");
        assertThat(BearerChallenge.parse("Basic realm=\"a\", Bearer error=insufficient_scope, error_description=\"a \\\"b\\\"\"")
                .params()).containsOnlyKeys("error", "error_description").containsEntry("error_description", "a \"b\"");
        assertThat(BearerChallenge.parse("Bearer").params()).isEmpty();
        assertThat(BearerChallenge.parse("Bearer realm=\"x\", Basic error=\"nope\"").params()).containsOnlyKeys("realm");
        assertThat(BearerChallenge.parse(null).params()).isEmpty();
        assertThat(BearerChallenge.parse("Bearer error=\"unterminated").params()).containsEntry("error", "unterminated");
        MercureException e = new MercureException("publishing", 403, "Bearer error=\"insufficient_scope\"", "no grant\n");
        assertThat(e.status()).isEqualTo(403);
        assertThat(e.error()).contains("insufficient_scope");
        assertThat(e.getMessage()).isEqualTo("publishing: HTTP 403 (Bearer error=\"insufficient_scope\"): no grant");
    }
}
