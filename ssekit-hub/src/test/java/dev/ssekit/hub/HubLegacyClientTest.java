package dev.ssekit.hub;

import static dev.ssekit.hub.JwtVerifierTest.KEY;
import static dev.ssekit.hub.JwtVerifierTest.hs256;
import static dev.ssekit.hub.JwtVerifierTest.token;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ssekit.Broadcaster;
import dev.ssekit.Scheduler;
import dev.ssekit.client.EventSource;
import dev.ssekit.client.EventSourceListener;
import dev.ssekit.client.StreamException;
import dev.ssekit.codec.SseEvent;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue #24, item 3, over sockets with real clients: a Mercure 0.x client ({@code ssekit-client}'s
 * EventSource, {@code topic=} with a URI template, a 0.x token: the {@code mercure} claim, no
 * {@code typ}/{@code aud}/{@code exp}) keeps working unchanged against a hub in {@code
 * --protocol-version-compatibility 8}: it gets private updates, resumes with the {@code
 * Last-Event-ID} header and with the 0.x {@code lastEventID} query parameter, and gets the 0.x
 * {@code Last-Event-ID} reply header beside 1.0's {@code Mercure-Last-Event-ID}; a 1.0 client
 * ({@code match_urlpattern}, an RFC 9068 token) works against the same hub. The same 0.x inputs
 * are refused by a hub without the compatibility mode, each with its status.
 */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class HubLegacyClientTest {

    private static final String ISSUER = "https://localhost";
    private static final String HUB = "https://localhost/.well-known/mercure";
    private static final String TEMPLATE = "https://example.com/books/{id}";

    private final Broadcaster broadcaster = Broadcaster.create();
    private final List<EventSource> sources = new ArrayList<>();
    private final HttpClient http = HttpClient.newHttpClient();
    private MercureHub hub;

    @AfterEach
    void stop() {
        sources.forEach(EventSource::close);
        if (hub != null) {
            hub.close();
        }
        broadcaster.close();
        http.close();
    }

    private URI start(int compatibility) {
        HubConfig.Protocol protocol = new HubConfig.Protocol(compatibility, List.of(new AccessTokens.Issuer(ISSUER,
                Optional.of(JwtVerifier.secret(KEY)), Optional.of(JwtVerifier.secret(KEY)))), Optional.of(HUB), Set.of(),
                HubConfig.Protocol.DEFAULT_PER_CLIENT, Set.of());
        hub = MercureHub.start(Mercure10ProtocolTest.config(protocol, false), broadcaster, Scheduler.system(), Clock.systemUTC());
        return URI.create("http://127.0.0.1:" + hub.address().getPort() + HubHandler.PATH);
    }

    /** A 1.0 access token of the hub's issuer and audience, for 10 minutes. */
    private static String accessToken(String action, String match, String type) throws Exception {
        return hs256("{\"alg\":\"HS256\",\"typ\":\"at+jwt\"}", "{\"iss\":\"" + ISSUER + "\",\"aud\":\"" + HUB + "\",\"exp\":"
                + (System.currentTimeMillis() / 1000 + 600) + ",\"authorization_details\":[{\"type\":\"" + AuthorizationDetails.TYPE
                + "\",\"actions\":[\"" + action + "\"],\"topics\":[{\"match\":\"" + match + "\",\"match_type\":\"" + type + "\"}]}]}", KEY);
    }

    private String publish(URI hubUrl, String token, String form) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(hubUrl).timeout(Duration.ofSeconds(10))
                .header("Authorization", "Bearer " + token).header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as("publish %s: %s", form, r.body()).isEqualTo(200);
        return r.body();
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, UTF_8);
    }

    /** A started client: what it received (data of message events) and its first response's headers. */
    private record Client(List<String> data, CompletableFuture<HttpHeaders> opened, CompletableFuture<Optional<StreamException>> closed) {
    }

    private Client client(EventSource.Builder builder) {
        EventSource source = builder.maxAttempts(1).build();
        sources.add(source);
        Client c = new Client(new CopyOnWriteArrayList<>(), new CompletableFuture<>(), new CompletableFuture<>());
        source.start(new EventSourceListener() {
            @Override
            public void onOpen(HttpResponse.ResponseInfo response) {
                c.opened().complete(response.headers());
            }

            @Override
            public void onEvent(SseEvent event) {
                if (event.type().equals("message")) {
                    c.data().add(event.data());
                }
            }

            @Override
            public void onClosed(Optional<StreamException> failure) {
                c.closed().complete(failure);
            }
        });
        return c;
    }

    @Test
    void aZeroXClientResumesBothWaysAndA10ClientWorksBesideIt() throws Exception {
        URI url = start(8);
        String zeroXPublisher = token("{\"mercure\":{\"publish\":[\"*\"]}}");
        String zeroXSubscriber = token("{\"mercure\":{\"subscribe\":[\"" + TEMPLATE + "\"]}}");
        assertThat(zeroXSubscriber.split("\\.")[0]).as("no at+jwt typ").isEqualTo(JwtVerifierTest.b64("{\"alg\":\"HS256\",\"typ\":\"JWT\"}"));

        // the 0.x client live: topic= with a URI template, the 0.x token in the header
        Client live = client(EventSource.builder(URI.create(url + "?topic=" + enc(TEMPLATE)))
                .header("Authorization", "Bearer " + zeroXSubscriber));
        live.opened().get(10, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(10)).until(() -> broadcaster.stats().connections() == 1);
        String first = publish(url, zeroXPublisher, "topic=" + enc("https://example.com/books/1") + "&data=one");
        publish(url, zeroXPublisher, "topic=" + enc("https://example.com/books/2") + "&data=two&private=on");
        publish(url, zeroXPublisher, "topic=" + enc("https://example.com/authors/1") + "&data=not+a+book");
        String last = publish(url, zeroXPublisher, "topic=" + enc("https://example.com/books/3") + "&data=three");
        await().atMost(Duration.ofSeconds(10)).until(() -> live.data().size() >= 3);
        assertThat(live.data()).containsExactly("one", "two", "three");

        // resumes with the Last-Event-ID header: both reply headers name where the replay starts
        Client byHeader = client(EventSource.builder(URI.create(url + "?topic=" + enc(TEMPLATE)))
                .header("Authorization", "Bearer " + zeroXSubscriber).lastEventId(first));
        HttpHeaders h = byHeader.opened().get(10, TimeUnit.SECONDS);
        assertThat(h.firstValue("Last-Event-ID")).contains(first);
        assertThat(h.firstValue("Mercure-Last-Event-ID")).contains(first);
        await().atMost(Duration.ofSeconds(10)).until(() -> byHeader.data().size() >= 2);
        assertThat(byHeader.data()).containsExactly("two", "three");

        // resumes with the 0.x lastEventID query parameter (the reference hub's mode 8 ignores it)
        Client byQuery = client(EventSource.builder(URI.create(url + "?topic=" + enc(TEMPLATE) + "&lastEventID=" + enc(first)))
                .header("Authorization", "Bearer " + zeroXSubscriber));
        h = byQuery.opened().get(10, TimeUnit.SECONDS);
        assertThat(h.firstValue("Last-Event-ID")).contains(first);
        assertThat(h.firstValue("Mercure-Last-Event-ID")).contains(first);
        await().atMost(Duration.ofSeconds(10)).until(() -> byQuery.data().size() >= 2);
        assertThat(byQuery.data()).containsExactly("two", "three");

        // a 1.0 client beside it: match_urlpattern, an RFC 9068 token, last_event_id
        Client modern = client(EventSource.builder(URI.create(url + "?match_urlpattern=" + enc("https://example.com/books/:id")
                + "&last_event_id=" + enc(first)))
                .header("Authorization", "Bearer " + accessToken("subscribe", "https://example.com/books/:id", "urlpattern")));
        h = modern.opened().get(10, TimeUnit.SECONDS);
        assertThat(h.firstValue("Mercure-Last-Event-ID")).contains(first);
        await().atMost(Duration.ofSeconds(10)).until(() -> modern.data().size() >= 2);
        assertThat(modern.data()).containsExactly("two", "three");
        // and a 1.0 publisher's update reaches both generations
        publish(url, accessToken("publish", "*", "exact"), "topic=" + enc("https://example.com/books/4") + "&data=four");
        await().atMost(Duration.ofSeconds(10)).until(() -> live.data().size() >= 4 && modern.data().size() >= 3);
        assertThat(live.data()).endsWith("four");
        assertThat(modern.data()).endsWith("four");
        assertThat(last).isNotEqualTo(first);
    }

    @Test
    void withoutTheCompatibilityModeTheSameZeroXInputsAreRefused() throws Exception {
        URI url = start(0);
        String zeroXSubscriber = token("{\"mercure\":{\"subscribe\":[\"" + TEMPLATE + "\"]}}");
        String zeroXPublisher = token("{\"mercure\":{\"publish\":[\"*\"]}}");
        // the same 0.x client: its token is checked first (the reference hub's order), 401 (no typ at+jwt)
        Client old = client(EventSource.builder(URI.create(url + "?topic=" + enc(TEMPLATE)))
                .header("Authorization", "Bearer " + zeroXSubscriber));
        assertThat(old.closed().get(10, TimeUnit.SECONDS)).hasValueSatisfying(e -> assertThat(e).hasMessageContaining("401"));
        assertThat(old.opened()).isNotDone();
        // topic= with a valid 1.0 token: 400 (the spec's reserved parameter rule, the reference hub's answer)
        HttpResponse<String> topic = http.send(HttpRequest.newBuilder(URI.create(url + "?topic=" + enc(TEMPLATE)))
                .timeout(Duration.ofSeconds(10)).header("Authorization", "Bearer "
                        + accessToken("subscribe", "https://example.com/books/:id", "urlpattern")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(topic.statusCode()).isEqualTo(400);
        // a 0.x token with a 1.0 matcher: 401 invalid_token (no typ at+jwt)
        HttpResponse<String> token = http.send(HttpRequest.newBuilder(URI.create(url + "?match=a")).timeout(Duration.ofSeconds(10))
                .header("Authorization", "Bearer " + zeroXSubscriber).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(token.statusCode()).isEqualTo(401);
        assertThat(token.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v -> assertThat(v).contains("invalid_token"));
        // ?authorization=: 400 invalid_request
        HttpResponse<String> query = http.send(HttpRequest.newBuilder(URI.create(url + "?match=a&authorization=" + zeroXSubscriber))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(query.statusCode()).isEqualTo(400);
        assertThat(query.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v -> assertThat(v).contains("invalid_request"));
        // a 0.x publisher: 401 invalid_token, nothing published
        HttpResponse<String> publish = http.send(HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(10))
                .header("Authorization", "Bearer " + zeroXPublisher).header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("topic=a&data=x")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(publish.statusCode()).isEqualTo(401);
        assertThat(broadcaster.stats().published()).isZero();
    }
}
