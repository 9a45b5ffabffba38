package dev.ssekit.mercure;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.PrivateKey;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * A Mercure 1.0 client for Java services (draft-dunglas-mercure-08): publishes updates and opens
 * subscriptions at one hub, with access tokens it mints from a key ({@link TokenMinter}) or gets
 * from a supplier.
 *
 * <pre>{@code
 * MercureClient hub = MercureClient.builder(URI.create("https://example.com/.well-known/mercure"))
 *         .issuer("https://example.com").key(System.getenv("MERCURE_JWT_KEY")).build();
 * String id = hub.publish(Update.of("https://example.com/books/1", "{\"title\":\"Dune\"}"));
 * }</pre>
 *
 * <p>Minted tokens carry the {@link Builder#grants grants} (by default {@code publish} and {@code
 * subscribe} on {@code *}: a service holding the hub's key may do anything) and are reused while
 * more than half their lifetime is left. Publishing is never retried by the client: a failure
 * throws, and a caller that retries sets {@link Update.Builder#idempotencyKey}. Subscriptions
 * reconnect by themselves (see {@link Subscription}).
 *
 * <p>Thread-safe: one client serves any number of threads; build one per hub and close it at
 * shutdown.
 */
public final class MercureClient implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(MercureClient.class.getName());
    private static final List<Grant> ALL = List.of(Grant.publish(TopicMatcher.any()), Grant.subscribe(TopicMatcher.any()));

    private final URI hubUrl;
    private final HttpClient http;
    private final boolean ownsHttp;
    private final Duration requestTimeout;
    private final TokenMinter minter;
    private final Supplier<String> tokenSupplier;
    private final List<Grant> grants;
    private final Map<List<Grant>, Minted> tokens = new ConcurrentHashMap<>();
    private final Set<Subscription> subscriptions = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean closed = new AtomicBoolean();

    /** A token and when it stops being reused. */
    private record Minted(String token, Instant renewAt) {
    }

    private MercureClient(Builder b, TokenMinter minter) {
        this.hubUrl = b.hubUrl;
        this.ownsHttp = b.httpClient == null;
        this.http = ownsHttp ? HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL)
                .connectTimeout(Duration.ofSeconds(10)).executor(Executors.newVirtualThreadPerTaskExecutor()).build()
                : b.httpClient;
        this.requestTimeout = b.requestTimeout;
        this.minter = minter;
        this.tokenSupplier = b.tokenSupplier;
        this.grants = List.copyOf(b.grants);
    }

    /**
     * A builder for a client of the hub at {@code hubUrl}.
     *
     * @param hubUrl the hub's URL, e.g. {@code https://example.com/.well-known/mercure}
     * @return a new builder; not thread-safe
     * @throws NullPointerException if {@code hubUrl} is null
     */
    public static Builder builder(URI hubUrl) {
        return new Builder(Objects.requireNonNull(hubUrl, "hubUrl"));
    }

    /**
     * The hub's URL.
     *
     * @return the URL given to the builder
     */
    public URI hubUrl() {
        return hubUrl;
    }

    /**
     * Publishes an update and waits for the hub's answer. Not retried: a caller that retries after
     * an {@link IOException} sets {@link Update.Builder#idempotencyKey} and publishes the same
     * {@link Update} again, and a hub that keeps keys answers with the first id instead of
     * publishing it twice.
     *
     * @param update the update
     * @return the update's id, as the hub answered it (the one asked for, or the hub's own)
     * @throws MercureException if the hub answered with an error status: 400 (an invalid update),
     *     401 (no token, or {@code invalid_token}: wrong key, issuer or audience, expired), 403
     *     ({@code insufficient_scope}: the token does not grant {@code publish} on every topic),
     *     409 (the idempotency key already names another update: nothing published), 413, 429,
     *     503, 504 (outcome unknown: retry with the same idempotency key), 5xx
     * @throws IOException if the request failed on the network or timed out (the update may or may
     *     not have been published)
     * @throws InterruptedException if the thread was interrupted while waiting
     * @throws IllegalStateException if the client is closed
     */
    public String publish(Update update) throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(request(update), HttpResponse.BodyHandlers.ofString(UTF_8));
        return answer(update, response);
    }

    /**
     * Publishes an update without blocking.
     *
     * @param update the update
     * @return the update's id, or a failure as {@link #publish} throws it (a {@link
     *     MercureException} for an error status)
     * @throws IllegalStateException if the client is closed
     */
    public CompletableFuture<String> publishAsync(Update update) {
        return http.sendAsync(request(update), HttpResponse.BodyHandlers.ofString(UTF_8)).thenApply(r -> {
            try {
                return answer(update, r);
            } catch (MercureException e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        });
    }

    /**
     * Starts building a subscription.
     *
     * <pre>{@code
     * Subscription s = hub.subscription().matchUrlPattern("https://example.com/books/:id").start(listener);
     * }</pre>
     *
     * @return a builder; not thread-safe
     * @throws IllegalStateException if the client is closed
     */
    public Subscription.Builder subscription() {
        requireOpen();
        return new Subscription.Builder(this);
    }

    /**
     * A token as this client sends it: minted with {@code grants} (null: the client's grants), or
     * reused while more than half its lifetime is left; or the supplier's.
     *
     * @param grants the grants, or null for the client's
     * @return the token
     * @throws IllegalStateException if the client has neither key nor token supplier
     */
    String token(List<Grant> grants) {
        if (tokenSupplier != null) {
            String t = tokenSupplier.get();
            if (t == null || t.isEmpty()) {
                throw new IllegalStateException("the token supplier returned no token");
            }
            return t;
        }
        if (minter == null) {
            throw new IllegalStateException("this client has no key nor token supplier");
        }
        List<Grant> g = grants == null ? this.grants : grants;
        Instant now = minter.clock().instant();
        Minted m = tokens.get(g);
        if (m == null || !now.isBefore(m.renewAt())) {
            m = new Minted(minter.mint(g), now.plus(minter.ttl().dividedBy(2)));
            if (tokens.size() > 64) {
                tokens.clear(); // per-subscription grants: keep the cache bounded
            }
            tokens.put(g, m);
        }
        return m.token();
    }

    /** Whether requests carry a token. */
    boolean authenticates() {
        return minter != null || tokenSupplier != null;
    }

    HttpClient httpClient() {
        requireOpen();
        return http;
    }

    void track(Subscription s) {
        subscriptions.add(s);
        if (closed.get()) {
            s.close();
        }
    }

    void forget(Subscription s) {
        subscriptions.remove(s);
    }

    private void requireOpen() {
        if (closed.get()) {
            throw new IllegalStateException("this MercureClient is closed");
        }
    }

    private HttpRequest request(Update update) {
        requireOpen();
        Objects.requireNonNull(update, "update");
        List<String> fields = new ArrayList<>();
        for (String topic : update.topics()) {
            fields.add(field("topic", topic));
        }
        fields.add(field("data", update.data()));
        update.id().ifPresent(id -> fields.add(field("id", id)));
        update.type().ifPresent(type -> fields.add(field("type", type)));
        if (update.isPrivate()) {
            fields.add("private=on");
        }
        update.retry().ifPresent(r -> fields.add("retry=" + r.toMillis()));
        HttpRequest.Builder r = HttpRequest.newBuilder(hubUrl).timeout(requestTimeout)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(String.join("&", fields)));
        if (authenticates()) {
            r.header("Authorization", "Bearer " + token(null));
        }
        update.idempotencyKey().ifPresent(k -> r.header("Idempotency-Key", k));
        return r.build();
    }

    private static String field(String name, String value) {
        return name + "=" + URLEncoder.encode(value, UTF_8);
    }

    private static String answer(Update update, HttpResponse<String> response) throws MercureException {
        int status = response.statusCode();
        if (status >= 200 && status < 300) {
            return response.body();
        }
        MercureException e = new MercureException("publishing " + update, status,
                response.headers().firstValue("WWW-Authenticate").orElse(null), response.body());
        LOG.log(Level.DEBUG, "{0}", e.getMessage());
        throw e;
    }

    /**
     * Closes the subscriptions this client opened (each listener hears {@code onClosed}) and,
     * unless the HTTP client was given to the builder, shuts the HTTP client down; publishes in
     * flight complete. Later calls to {@link #publish} or {@link #subscription} throw {@link
     * IllegalStateException}. Idempotent, thread-safe; never throws.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        for (Subscription s : List.copyOf(subscriptions)) {
            s.close();
        }
        if (ownsHttp) {
            http.shutdown();
        }
    }

    /**
     * Builds a {@link MercureClient}. Setters reject null; {@link #build()} validates and names the
     * setting and value it rejects. Not thread-safe.
     *
     * <p>Three ways to authenticate: a key with {@link #issuer} (tokens are minted; {@link
     * #audience} defaults to the hub URL), a {@link #tokenMinter}, or a {@link #tokenSupplier} (tokens
     * issued elsewhere). With none, the client is anonymous: it subscribes to public updates and
     * publishes without a token (which a hub refuses unless it allows anonymous publishing).
     */
    public static final class Builder {
        private final URI hubUrl;
        private String issuer;
        private final List<String> audience = new ArrayList<>();
        private Keys.SigningKey key;
        private String algorithm;
        private String keyId;
        private String clientId;
        private String subject;
        private Duration tokenTtl;
        private TokenMinter tokenMinter;
        private Supplier<String> tokenSupplier;
        private List<Grant> grants = ALL;
        private HttpClient httpClient;
        private Duration requestTimeout = Duration.ofSeconds(30);

        private Builder(URI hubUrl) {
            this.hubUrl = hubUrl;
        }

        /**
         * The {@code iss} of minted tokens: an issuer the hub trusts ({@code --issuer}). Required
         * with a key.
         *
         * @param issuer the issuer identifier
         * @return this builder
         */
        public Builder issuer(String issuer) {
            this.issuer = Objects.requireNonNull(issuer, "issuer");
            return this;
        }

        /**
         * Adds an {@code aud} value of minted tokens. Default: the hub URL (the resource identifier
         * the spec recommends, and what ssekit-hub derives without {@code --resource-id}).
         *
         * @param audience the hub's resource identifier
         * @return this builder
         */
        public Builder audience(String audience) {
            this.audience.add(Objects.requireNonNull(audience, "audience"));
            return this;
        }

        /**
         * The signing key: an HMAC secret, or a PKCS#8 PEM private key (RSA, EC or Ed25519); see {@link
         * TokenMinter.Builder#key(String)}.
         *
         * @param key the secret or PEM text
         * @return this builder
         * @throws IllegalArgumentException if the text starts as PEM but is no PKCS#8 RSA, EC or
         *     Ed25519 private key (the message names the setting)
         */
        public Builder key(String key) {
            this.key = Keys.signingKey("key", key);
            return this;
        }

        /**
         * The signing key: an RSA, EC or Ed25519 private key.
         *
         * @param key the key
         * @return this builder
         */
        public Builder key(PrivateKey key) {
            this.key = Keys.SigningKey.ofPrivateKey(key);
            return this;
        }

        /**
         * The JWS algorithm; see {@link TokenMinter.Builder#algorithm}.
         *
         * @param algorithm e.g. {@code HS256}, {@code RS256}, {@code ES256}
         * @return this builder
         */
        public Builder algorithm(String algorithm) {
            this.algorithm = Objects.requireNonNull(algorithm, "algorithm");
            return this;
        }

        /**
         * The {@code kid} of minted tokens; see {@link TokenMinter.Builder#keyId}.
         *
         * @param keyId the key id
         * @return this builder
         */
        public Builder keyId(String keyId) {
            this.keyId = Objects.requireNonNull(keyId, "keyId");
            return this;
        }

        /**
         * The {@code client_id} of minted tokens; see {@link TokenMinter.Builder#clientId}.
         *
         * @param clientId the client id
         * @return this builder
         */
        public Builder clientId(String clientId) {
            this.clientId = Objects.requireNonNull(clientId, "clientId");
            return this;
        }

        /**
         * The {@code sub} of minted tokens; see {@link TokenMinter.Builder#subject}.
         *
         * @param subject the subject
         * @return this builder
         */
        public Builder subject(String subject) {
            this.subject = Objects.requireNonNull(subject, "subject");
            return this;
        }

        /**
         * How long minted tokens are valid; see {@link TokenMinter.Builder#ttl}. Default 1 hour.
         *
         * @param ttl at least 1 second
         * @return this builder
         */
        public Builder tokenTtl(Duration ttl) {
            this.tokenTtl = Objects.requireNonNull(ttl, "ttl");
            return this;
        }

        /**
         * Mint tokens with this minter instead of one built from {@link #issuer}, {@link #key}...
         *
         * @param minter the minter
         * @return this builder
         */
        public Builder tokenMinter(TokenMinter minter) {
            this.tokenMinter = Objects.requireNonNull(minter, "minter");
            return this;
        }

        /**
         * Send the tokens this supplier returns (issued elsewhere) instead of minting them. It is
         * called for each publish and each connection attempt of a subscription, and may block.
         *
         * @param supplier returns a compact JWS
         * @return this builder
         */
        public Builder tokenSupplier(Supplier<String> supplier) {
            this.tokenSupplier = Objects.requireNonNull(supplier, "supplier");
            return this;
        }

        /**
         * The grants of minted tokens. Default: {@code publish} and {@code subscribe} on {@code *}.
         *
         * @param grants at least one
         * @return this builder
         */
        public Builder grants(Grant... grants) {
            this.grants = List.of(grants);
            return this;
        }

        /**
         * The HTTP client for publishing and subscribing; it is not closed by {@link
         * MercureClient#close()}. Default: a client of this {@code MercureClient}'s own (redirects
         * followed, 10 s connect timeout, virtual threads).
         *
         * @param client the client
         * @return this builder
         */
        public Builder httpClient(HttpClient client) {
            this.httpClient = Objects.requireNonNull(client, "client");
            return this;
        }

        /**
         * How long a publish may wait for the hub's answer. Default 30 s.
         *
         * @param timeout positive
         * @return this builder
         */
        public Builder requestTimeout(Duration timeout) {
            this.requestTimeout = Objects.requireNonNull(timeout, "timeout");
            return this;
        }

        /**
         * Validates and builds.
         *
         * @return the client; close it when done
         * @throws IllegalArgumentException naming the setting and its value: a hub URL that is not
         *     absolute http(s) with a host, a key without issuer (or the reverse), two ways to
         *     authenticate at once, no grants, a request timeout that is not positive, and what
         *     {@link TokenMinter.Builder#build()} refuses
         */
        public MercureClient build() {
            String scheme = hubUrl.getScheme() == null ? "" : hubUrl.getScheme().toLowerCase(Locale.ROOT);
            if (!scheme.equals("http") && !scheme.equals("https") || hubUrl.getHost() == null) {
                throw new IllegalArgumentException("hubUrl must be an http or https URL with a host: \"" + hubUrl + "\"");
            }
            if (requestTimeout.isNegative() || requestTimeout.isZero()) {
                throw new IllegalArgumentException("requestTimeout must be positive: " + requestTimeout);
            }
            if (grants.isEmpty()) {
                throw new IllegalArgumentException("grants must not be empty (the default grants publish and subscribe on *)");
            }
            boolean keyed = key != null;
            int ways = (keyed || issuer != null ? 1 : 0) + (tokenMinter != null ? 1 : 0) + (tokenSupplier != null ? 1 : 0);
            if (ways > 1) {
                throw new IllegalArgumentException("choose one way to authenticate: issuer and key, tokenMinter, or tokenSupplier");
            }
            if (keyed && issuer == null) {
                throw new IllegalArgumentException("issuer is required with a key (the iss the hub trusts, its --issuer)");
            }
            if (issuer != null && !keyed) {
                throw new IllegalArgumentException("key is required with issuer \"" + issuer + "\" (the secret or private key"
                        + " the hub verifies tokens with)");
            }
            TokenMinter minter = tokenMinter;
            if (keyed) {
                TokenMinter.Builder m = TokenMinter.builder().issuer(issuer);
                if (audience.isEmpty()) {
                    m.audience(hubUrl.toString());
                } else {
                    audience.forEach(m::audience);
                }
                m.signingKey(key);
                if (algorithm != null) {
                    m.algorithm(algorithm);
                }
                if (keyId != null) {
                    m.keyId(keyId);
                }
                if (clientId != null) {
                    m.clientId(clientId);
                }
                if (subject != null) {
                    m.subject(subject);
                }
                if (tokenTtl != null) {
                    m.ttl(tokenTtl);
                }
                minter = m.build();
            } else if (!audience.isEmpty() || algorithm != null || keyId != null || clientId != null || subject != null
                    || tokenTtl != null) {
                throw new IllegalArgumentException("audience, algorithm, keyId, clientId, subject and tokenTtl are settings of"
                        + " minted tokens: they need issuer and key");
            }
            return new MercureClient(this, minter);
        }
    }
}
