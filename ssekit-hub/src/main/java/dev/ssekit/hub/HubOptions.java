package dev.ssekit.hub;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The hub's command line and environment, all read from one table ({@link #OPTIONS}) that also
 * makes the usage text and the environment names. Flags win over environment variables; every
 * error names the flag or variable and its value.
 *
 * @param listen {@code --listen HOST:PORT} / {@code SSEKIT_LISTEN}
 * @param publisherKey {@code --publisher-jwt-key} / {@code SSEKIT_PUBLISHER_JWT_KEY} or {@code
 *     MERCURE_PUBLISHER_JWT_KEY}: an HMAC secret or a PEM public key; empty (and no JWKS): demo mode
 * @param subscriberKey {@code --subscriber-jwt-key} / {@code SSEKIT_SUBSCRIBER_JWT_KEY} or {@code
 *     MERCURE_SUBSCRIBER_JWT_KEY}; empty: the publisher's keys
 * @param algorithm {@code --jwt-alg} / {@code SSEKIT_JWT_ALG}: pins static keys to one algorithm;
 *     empty: every algorithm of the key's type
 * @param publisherJwks {@code --publisher-jwks-url} / {@code SSEKIT_PUBLISHER_JWKS_URL}: the
 *     publishers' keys from a JWK set, chosen by {@code kid}
 * @param subscriberJwks {@code --subscriber-jwks-url} / {@code SSEKIT_SUBSCRIBER_JWKS_URL}
 * @param anonymous {@code --anonymous true|false} / {@code SSEKIT_ANONYMOUS}
 * @param corsOrigins {@code --cors-origins a,b} / {@code SSEKIT_CORS_ORIGINS}
 * @param maxConnections {@code --max-connections} / {@code SSEKIT_MAX_CONNECTIONS}
 * @param maxBodyBytes {@code --max-body-bytes} / {@code SSEKIT_MAX_BODY_BYTES}
 * @param maxTopics {@code --max-topics} / {@code SSEKIT_MAX_TOPICS}
 * @param heartbeat {@code --heartbeat SECONDS} / {@code SSEKIT_HEARTBEAT}
 * @param headerTimeout {@code --header-timeout SECONDS} / {@code SSEKIT_HEADER_TIMEOUT}: a new
 *     connection's first request head (and TLS handshake) must arrive within it
 * @param data {@code --data DIR} / {@code SSEKIT_DATA}: the durable history
 * @param fsync {@code --fsync true|false} / {@code SSEKIT_FSYNC}: force each publish to the device
 *     before answering (false: a published event survives a killed hub, not a power loss)
 * @param historyEvents {@code --history-events} / {@code SSEKIT_HISTORY_EVENTS}
 * @param historyMegabytes {@code --history-mb} / {@code SSEKIT_HISTORY_MB}: encoded bytes kept, in MiB
 * @param historyAge {@code --history-hours} / {@code SSEKIT_HISTORY_HOURS}: the oldest event kept
 * @param demo {@code --demo true|false} / {@code SSEKIT_DEMO}: serve the demo page at {@code /}
 * @param subscriptions {@code --subscriptions true|false} / {@code SSEKIT_SUBSCRIPTIONS}: publish
 *     and list active subscriptions
 * @param logFormat {@code --log-format text|json} / {@code SSEKIT_LOG_FORMAT}
 * @param redis {@code --redis redis://HOST:PORT} / {@code SSEKIT_REDIS}: share events with every
 *     hub on that Redis (history in Redis instead of {@code --data})
 * @param tlsCert {@code --tls-cert FILE} / {@code SSEKIT_TLS_CERT}: the PEM certificate chain for
 *     HTTPS (with {@code tlsKey}; both or neither)
 * @param tlsKey {@code --tls-key FILE} / {@code SSEKIT_TLS_KEY}: its PEM private key (PKCS#8)
 * @param selfSigned {@code --tls self-signed} / {@code SSEKIT_TLS}: HTTPS with a certificate made for
 *     localhost (instead of {@code --tls-cert}/{@code --tls-key})
 * @param limits {@code --publish-origins}, {@code --metrics-listen}, {@code --metrics-token}, {@code
 *     --body-timeout}, {@code --body-min-rate}, {@code --idle-timeout}, {@code --max-pending-body-mb} (and their
 *     {@code SSEKIT_} variables): see {@link HubConfig.Limits}
 * @param lifetime {@code --drain SECONDS} / {@code SSEKIT_DRAIN} and {@code --max-connection-age SECONDS} / {@code
 *     SSEKIT_MAX_CONNECTION_AGE}: see {@link ConnectionLifetime}
 * @param redisReplicas {@code --redis-replicas N} / {@code SSEKIT_REDIS_REPLICAS}: a publish is acknowledged once
 *     {@code WAIT N} confirms N Redis replicas hold it (0: once the primary has it)
 * @param issuers {@code --issuer} / {@code SSEKIT_ISSUER}: the trusted issuers, each with its keys (the table's note
 *     spells the syntax)
 * @param resourceId {@code --resource-id} / {@code SSEKIT_RESOURCE_ID}: the audience; empty: derived per request
 * @param publicUrls {@code --public-urls} / {@code SSEKIT_PUBLIC_URLS}: the origins served (others: 421); empty: any
 * @param compatibility {@code --protocol-version-compatibility} / {@code SSEKIT_PROTOCOL_VERSION_COMPATIBILITY}: 0 or 8
 * @param maxConnectionsPerClient {@code --max-connections-per-client} / {@code SSEKIT_MAX_CONNECTIONS_PER_CLIENT}
 * @param trustedProxies {@code --trusted-proxies} / {@code SSEKIT_TRUSTED_PROXIES}
 */
record HubOptions(InetSocketAddress listen, Optional<String> publisherKey, Optional<String> subscriberKey, Optional<String> algorithm,
        Optional<URI> publisherJwks, Optional<URI> subscriberJwks,
        boolean anonymous, Set<String> corsOrigins, int maxConnections, int maxBodyBytes, int maxTopics, Duration heartbeat, Duration headerTimeout,
        java.nio.file.Path data, boolean fsync, int historyEvents, int historyMegabytes, Duration historyAge, boolean demo, boolean subscriptions, String logFormat,
        Optional<String> redis, Optional<java.nio.file.Path> tlsCert, Optional<java.nio.file.Path> tlsKey, boolean selfSigned,
        HubConfig.Limits limits, ConnectionLifetime.Settings lifetime, int redisReplicas,
        List<IssuerSpec> issuers, Optional<String> resourceId, Set<String> publicUrls, int compatibility,
        int maxConnectionsPerClient, Set<String> trustedProxies) {

    /**
     * One {@code --issuer} entry.
     *
     * @param id the exact {@code iss} its tokens carry
     * @param keys its own key settings by name ({@code publisher-jwt-key}, {@code subscriber-jwt-key},
     *     {@code publisher-jwks-url}, {@code subscriber-jwks-url}, {@code jwt-alg}); empty: the top-level key options
     */
    record IssuerSpec(String id, Map<String, String> keys) {
        IssuerSpec {
            keys = Map.copyOf(keys);
        }
    }

    /** The key settings an {@code --issuer} entry may give, as {@code NAME=VALUE}. */
    static final List<String> ISSUER_KEYS = List.of("publisher-jwt-key", "subscriber-jwt-key", "publisher-jwks-url",
            "subscriber-jwks-url", "jwt-alg");

    /**
     * One option: its flag, what its value is, the environment variables that supply it too (the
     * first set one wins), its default (null: none, or one that depends on other options) and a
     * note for the usage text.
     */
    private record Option(String flag, String value, List<String> env, String defaultValue, String note) {
        Option {
            env = List.copyOf(env);
        }

        String usage() {
            String dflt = defaultValue != null ? "default " + defaultValue + (note.isEmpty() ? "" : " (" + note + ")") : note;
            return String.format("  %-30s %-27s %s%n", flag + " " + value, String.join(", ", env), dflt);
        }
    }

    /** Every option, in the order of the usage text. */
    private static final List<Option> OPTIONS = List.of(
            new Option("--listen", "HOST:PORT", List.of("SSEKIT_LISTEN"), "127.0.0.1:8080", ""),
            new Option("--publisher-jwt-key", "KEY", List.of("SSEKIT_PUBLISHER_JWT_KEY", "MERCURE_PUBLISHER_JWT_KEY"), null,
                    "an HMAC secret (>= 32 bytes) or a PEM public key; none: demo mode"),
            new Option("--subscriber-jwt-key", "KEY", List.of("SSEKIT_SUBSCRIBER_JWT_KEY", "MERCURE_SUBSCRIBER_JWT_KEY"), null,
                    "default: the publisher's keys"),
            new Option("--jwt-alg", "ALG", List.of("SSEKIT_JWT_ALG"), null,
                    "default: any of the key's type (HS256/384/512, RS256/384/512, ES256/384, EdDSA); set: only that one (static keys)"),
            new Option("--publisher-jwks-url", "URL", List.of("SSEKIT_PUBLISHER_JWKS_URL"), null,
                    "publishers' keys from a JWK set, by kid (instead of --publisher-jwt-key)"),
            new Option("--subscriber-jwks-url", "URL", List.of("SSEKIT_SUBSCRIBER_JWKS_URL"), null,
                    "subscribers' keys from a JWK set (instead of --subscriber-jwt-key)"),
            new Option("--issuer", "ID[ K=V..][;ID K=V..]", List.of("SSEKIT_ISSUER"), null,
                    "the trusted token issuers (iss), ';'-separated. An ID alone takes the key options above; an ID followed by"
                    + " its own publisher-jwt-key=, subscriber-jwt-key=, publisher-jwks-url=, subscriber-jwks-url=, jwt-alg="
                    + " (a value @FILE is read from FILE) uses only those: a key never verifies another issuer's token."
                    + " Needed with keys unless --protocol-version-compatibility 8"),
            new Option("--resource-id", "URL", List.of("SSEKIT_RESOURCE_ID"), null,
                    "the aud tokens must name; default: each request's scheme://Host/.well-known/mercure"),
            new Option("--public-urls", "A,B", List.of("SSEKIT_PUBLIC_URLS"), "any", "origins served (scheme://host[:port]); others get 421"),
            new Option("--protocol-version-compatibility", "8", List.of("SSEKIT_PROTOCOL_VERSION_COMPATIBILITY"), "none",
                    "8: also serve Mercure 0.x clients (topic=, mercure claim, ?authorization=, mercureAuthorization cookie, lastEventID)"),
            new Option("--max-connections-per-client", "N", List.of("SSEKIT_MAX_CONNECTIONS_PER_CLIENT"),
                    Integer.toString(HubConfig.Protocol.DEFAULT_PER_CLIENT), "streams per client address (loopback peers not limited unless trusted proxies); then 429 with Retry-After"),
            new Option("--trusted-proxies", "A,B", List.of("SSEKIT_TRUSTED_PROXIES"), "none",
                    "proxy IP addresses whose Forwarded / X-Forwarded-For name the client"),
            new Option("--anonymous", "true|false", List.of("SSEKIT_ANONYMOUS"), "true", "subscribers without a token get public updates"),
            new Option("--cors-origins", "A,B", List.of("SSEKIT_CORS_ORIGINS"), "none", "* for any (never with credentials)"),
            new Option("--publish-origins", "A,B", List.of("SSEKIT_PUBLISH_ORIGINS"), "none",
                    "origins whose pages may publish with the mercureAuthorization cookie (never *)"),
            new Option("--max-connections", "N", List.of("SSEKIT_MAX_CONNECTIONS"), "15000", "then 503"),
            new Option("--max-body-bytes", "N", List.of("SSEKIT_MAX_BODY_BYTES"), "1048576", "then 413"),
            new Option("--max-topics", "N", List.of("SSEKIT_MAX_TOPICS"), "1000", "per publish or subscribe"),
            new Option("--heartbeat", "SECONDS", List.of("SSEKIT_HEARTBEAT"), "15", ""),
            new Option("--header-timeout", "SECONDS", List.of("SSEKIT_HEADER_TIMEOUT"), "10",
                    "a new connection's TLS handshake and first request head; then cut off"),
            new Option("--idle-timeout", "SECONDS", List.of("SSEKIT_IDLE_TIMEOUT"), "30",
                    "from a response to the next complete request head on a kept-alive connection"),
            new Option("--body-timeout", "SECONDS", List.of("SSEKIT_BODY_TIMEOUT"), "30", "a whole request body, from its head"),
            new Option("--body-min-rate", "BYTES", List.of("SSEKIT_BODY_MIN_RATE"), "1024",
                    "per second, over each 5 s: slower bodies are cut off (0: no floor)"),
            new Option("--max-pending-body-mb", "N", List.of("SSEKIT_MAX_PENDING_BODY_MB"), "64",
                    "MiB held by request bodies still arriving, all connections; then 503"),
            new Option("--metrics-listen", "HOST:PORT", List.of("SSEKIT_METRICS_LISTEN"), "none",
                    "serve /metrics there (the public port does not)"),
            new Option("--metrics-token", "TOKEN", List.of("SSEKIT_METRICS_TOKEN"), "none",
                    "serve /metrics on the public port to Authorization: Bearer TOKEN"),
            new Option("--data", "DIR", List.of("SSEKIT_DATA"), "ssekit-data", "durable history"),
            new Option("--fsync", "true|false", List.of("SSEKIT_FSYNC"), "false", "true: force each publish to the device before answering"),
            new Option("--history-events", "N", List.of("SSEKIT_HISTORY_EVENTS"), "100000", "the oldest go first"),
            new Option("--history-mb", "N", List.of("SSEKIT_HISTORY_MB"), "256", "MiB of encoded events"),
            new Option("--history-hours", "N", List.of("SSEKIT_HISTORY_HOURS"), "168", "7 days"),
            new Option("--demo", "true|false", List.of("SSEKIT_DEMO"), null, "default true without publisher keys (page at /)"),
            new Option("--subscriptions", "true|false", List.of("SSEKIT_SUBSCRIPTIONS"), null,
                    "default as --demo (active subscriptions API and events, status page at /status)"),
            new Option("--log-format", "text|json", List.of("SSEKIT_LOG_FORMAT"), "text", "one line per record, access log included"),
            new Option("--redis", "redis://HOST:PORT", List.of("SSEKIT_REDIS"), "none",
                    "one node; set: every hub on it shares events (Sentinel: redis-sentinel://H:P[,H:P...]/MASTER_NAME)"),
            new Option("--redis-replicas", "N", List.of("SSEKIT_REDIS_REPLICAS"), "0",
                    "acknowledge a publish once WAIT N confirms N replicas hold it (else 503); 0: once the primary has it"),
            new Option("--tls-cert", "FILE", List.of("SSEKIT_TLS_CERT"), "none", "PEM chain: HTTPS with HTTP/2; reloaded when changed"),
            new Option("--tls-key", "FILE", List.of("SSEKIT_TLS_KEY"), "none", "its PEM PKCS#8 key; both or neither"),
            new Option("--tls", "off|self-signed", List.of("SSEKIT_TLS"), "off",
                    "self-signed: a localhost certificate kept in --data, fingerprint printed (demo)"),
            // issue #26: 20 s spreads 15,000 streams (--max-connections) at 750 reconnects/s over the other nodes, and
            // with a 10 s margin fits Kubernetes' default 30 s grace period; systemd's TimeoutStopSec is 35
            new Option("--drain", "SECONDS", List.of("SSEKIT_DRAIN"),
                    Integer.toString(ConnectionLifetime.Settings.DEFAULT_DRAIN_SECONDS),
                    "on SIGTERM /readyz turns 503, then streams close spread over this window (0: all at once); "
                    + "20 s: 15,000 streams reconnect elsewhere at 750/s, and it fits a 30 s stop timeout"),
            new Option("--max-connection-age", "SECONDS", List.of("SSEKIT_MAX_CONNECTION_AGE"), "none",
                    "close each stream at this age, +-10 %, with a retry hint (clients resume with Last-Event-ID)"));

    private static final Map<String, Option> BY_FLAG = OPTIONS.stream()
            .collect(java.util.stream.Collectors.toUnmodifiableMap(Option::flag, o -> o));

    /** The usage text, made from {@link #OPTIONS}. */
    static final String USAGE = "usage: ssekit-hub [options]   (each also as an environment variable, flags win)\n"
            + OPTIONS.stream().map(Option::usage).collect(java.util.stream.Collectors.joining())
            + "Without publisher keys the hub runs in demo mode: it makes a development key and prints it.\n";

    /** Thrown for {@code --help}: not an error. */
    static final class HelpRequested extends Exception {
        private static final long serialVersionUID = 1L;
    }

    /**
     * Reads the options.
     *
     * @param args the command line
     * @param env the environment
     * @throws HelpRequested for {@code --help} or {@code -h}
     * @throws IllegalArgumentException for an unknown option, a missing or bad value, naming it
     */
    static HubOptions parse(String[] args, Map<String, String> env) throws HelpRequested {
        Map<String, String> flags = new java.util.HashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--help") || a.equals("-h")) {
                throw new HelpRequested();
            }
            String name = a;
            String value;
            int eq = a.indexOf('=');
            if (eq > 0) {
                name = a.substring(0, eq);
                value = a.substring(eq + 1);
            } else if (i + 1 < args.length) {
                value = args[++i];
            } else {
                throw new IllegalArgumentException(a + " needs a value");
            }
            if (!BY_FLAG.containsKey(name)) {
                throw new IllegalArgumentException("unknown option " + name + " (see --help)");
            }
            flags.put(name, value);
        }
        Setting alg = setting("--jwt-alg", flags, env);
        Optional<String> algorithm = alg.value().map(a -> a.toUpperCase(java.util.Locale.ROOT).replace("EDDSA", "EdDSA"));
        if (algorithm.isPresent() && !JwtVerifier.ALGORITHMS.contains(algorithm.get())) {
            throw new IllegalArgumentException(alg.name() + " must be one of " + String.join(", ", JwtVerifier.ALGORITHMS)
                    + ", got \"" + alg.value().get() + "\"");
        }
        Setting format = setting("--log-format", flags, env);
        String logFormat = format.value().orElseThrow();
        if (!logFormat.equals("text") && !logFormat.equals("json")) {
            throw new IllegalArgumentException(format.name() + " must be text or json, got \"" + logFormat + "\"");
        }
        Optional<String> publisherKey = setting("--publisher-jwt-key", flags, env).value();
        Optional<String> subscriberKey = setting("--subscriber-jwt-key", flags, env).value();
        Optional<URI> publisherJwks = url(setting("--publisher-jwks-url", flags, env));
        Optional<URI> subscriberJwks = url(setting("--subscriber-jwks-url", flags, env));
        exclusive(setting("--publisher-jwt-key", flags, env), setting("--publisher-jwks-url", flags, env));
        if (algorithm.isPresent() && (publisherJwks.isPresent() || subscriberJwks.isPresent())) {
            throw new IllegalArgumentException(alg.name() + " pins static keys; the keys of a JWK set are pinned by their"
                    + " type and their own alg member: leave " + alg.name() + " out with --publisher-jwks-url or --subscriber-jwks-url");
        }
        exclusive(setting("--subscriber-jwt-key", flags, env), setting("--subscriber-jwks-url", flags, env));
        boolean demo = bool(setting("--demo", flags, env), publisherKey.isEmpty() && publisherJwks.isEmpty());
        Setting compatSetting = setting("--protocol-version-compatibility", flags, env);
        int compatibility = switch (compatSetting.value().orElseThrow()) {
            case "none", "0" -> 0;
            case "8" -> 8;
            default -> throw new IllegalArgumentException(compatSetting.name() + " must be 8 (or none), got \""
                    + compatSetting.value().get() + "\"");
        };
        Setting issuerSetting = setting("--issuer", flags, env);
        List<IssuerSpec> issuers = issuerSetting.value().map(v -> issuers(issuerSetting.name(), v)).orElse(List.of());
        boolean topLevelKeys = publisherKey.isPresent() || publisherJwks.isPresent() || subscriberKey.isPresent()
                || subscriberJwks.isPresent();
        if (topLevelKeys && compatibility == 0 && issuers.stream().noneMatch(i -> i.keys().isEmpty())) {
            throw new IllegalArgumentException("the key options need --issuer ID (SSEKIT_ISSUER): Mercure 1.0 binds each key to the"
                    + " issuer (iss) whose tokens it verifies; or add --protocol-version-compatibility 8"
                    + " (SSEKIT_PROTOCOL_VERSION_COMPATIBILITY) to accept 0.x tokens that name no issuer");
        }
        if (!topLevelKeys && issuers.stream().anyMatch(i -> i.keys().isEmpty()) && !demo) {
            throw new IllegalArgumentException(issuerSetting.name() + " names an issuer without keys of its own, and no key"
                    + " option is set: give --publisher-jwt-key or --publisher-jwks-url, or the issuer's own publisher-jwt-key=");
        }
        Setting resource = setting("--resource-id", flags, env);
        Optional<String> resourceId = resource.value().filter(v -> !v.isBlank()).map(String::strip);
        Set<String> publicUrls = new LinkedHashSet<>();
        Setting pub = setting("--public-urls", flags, env);
        pub.value().filter(v -> !v.equals("any")).ifPresent(v -> Arrays.stream(v.split(",")).map(String::trim).filter(o -> !o.isEmpty())
                .forEach(o -> publicUrls.add(origin(pub.name(), o))));
        Set<String> proxies = new LinkedHashSet<>();
        setting("--trusted-proxies", flags, env).value().filter(v -> !v.equals("none")).ifPresent(v -> Arrays.stream(v.split(","))
                .map(String::trim).filter(o -> !o.isEmpty()).forEach(proxies::add));
        boolean subscriptions = bool(setting("--subscriptions", flags, env), demo);
        Set<String> origins = new LinkedHashSet<>();
        setting("--cors-origins", flags, env).value().filter(v -> !v.equals("none")).ifPresent(v -> Arrays.stream(v.split(","))
                .map(String::trim).filter(s -> !s.isEmpty()).forEach(origins::add));
        Setting tlsCert = setting("--tls-cert", flags, env);
        Setting tlsKey = setting("--tls-key", flags, env);
        Optional<String> cert = tlsCert.value().filter(v -> !v.equals("none"));
        Optional<String> key = tlsKey.value().filter(v -> !v.equals("none"));
        if (cert.isPresent() != key.isPresent()) {
            throw new IllegalArgumentException((cert.isPresent() ? tlsCert.name() : tlsKey.name())
                    + " needs " + (cert.isPresent() ? "--tls-key (SSEKIT_TLS_KEY)" : "--tls-cert (SSEKIT_TLS_CERT)")
                    + ": HTTPS takes both the certificate and its key");
        }
        Setting tls = setting("--tls", flags, env);
        if (!tls.value().orElseThrow().equals("off") && !tls.value().get().equals("self-signed")) {
            throw new IllegalArgumentException(tls.name() + " must be off or self-signed, got \"" + tls.value().get() + "\"");
        }
        boolean selfSigned = tls.value().get().equals("self-signed");
        if (selfSigned && cert.isPresent()) {
            throw new IllegalArgumentException(tls.name() + " self-signed and " + tlsCert.name() + " exclude each other: give one");
        }
        Setting listen = setting("--listen", flags, env);
        Set<String> publishOrigins = new LinkedHashSet<>();
        Setting publish = setting("--publish-origins", flags, env);
        publish.value().filter(v -> !v.equals("none")).ifPresent(v -> Arrays.stream(v.split(","))
                .map(String::trim).filter(o -> !o.isEmpty()).forEach(publishOrigins::add));
        if (publishOrigins.contains("*")) {
            throw new IllegalArgumentException(publish.name() + " must list origins: * would let any page publish with a"
                    + " user's cookie, got \"" + publish.value().orElseThrow() + "\"");
        }
        Setting metricsListen = setting("--metrics-listen", flags, env);
        Optional<InetSocketAddress> metricsAddress = metricsListen.value().filter(v -> !v.equals("none"))
                .map(v -> address(metricsListen.name(), v));
        Setting metricsTokenSetting = setting("--metrics-token", flags, env);
        Optional<String> metricsToken = metricsTokenSetting.value().filter(v -> !v.equals("none"));
        if (metricsToken.isPresent() && metricsToken.get().isBlank()) {
            throw new IllegalArgumentException(metricsTokenSetting.name() + " must not be empty (an empty token would let"
                    + " 'Authorization: Bearer ' read /metrics): leave it out, or give none, got \"" + metricsToken.get() + "\"");
        }
        Setting minRate = setting("--body-min-rate", flags, env);
        int bodyMinRate;
        try {
            bodyMinRate = Integer.parseInt(minRate.value().orElseThrow().trim());
            if (bodyMinRate < 0) {
                throw new NumberFormatException();
            }
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(minRate.name() + " must be an integer of at least 0, got \"" + minRate.value().get() + "\"");
        }
        HubConfig.Limits limits = new HubConfig.Limits(publishOrigins, metricsAddress, metricsToken,
                Duration.ofSeconds(positive(setting("--body-timeout", flags, env))), bodyMinRate,
                Duration.ofSeconds(positive(setting("--idle-timeout", flags, env))),
                (long) positive(setting("--max-pending-body-mb", flags, env)) << 20, HubConfig.Limits.DEFAULT.maxUnverifiedBytes());
        return new HubOptions(
                address(listen.name(), listen.value().orElseThrow()),
                publisherKey, subscriberKey, algorithm, publisherJwks, subscriberJwks,
                bool(setting("--anonymous", flags, env), true), origins,
                positive(setting("--max-connections", flags, env)),
                positive(setting("--max-body-bytes", flags, env)),
                positive(setting("--max-topics", flags, env)),
                Duration.ofSeconds(positive(setting("--heartbeat", flags, env))),
                Duration.ofSeconds(positive(setting("--header-timeout", flags, env))),
                java.nio.file.Path.of(setting("--data", flags, env).value().orElseThrow()),
                bool(setting("--fsync", flags, env), false),
                positive(setting("--history-events", flags, env)),
                positive(setting("--history-mb", flags, env)),
                Duration.ofHours(positive(setting("--history-hours", flags, env))),
                demo, subscriptions, logFormat, setting("--redis", flags, env).value().filter(v -> !v.equals("none")),
                cert.map(java.nio.file.Path::of), key.map(java.nio.file.Path::of), selfSigned, limits,
                lifetime(setting("--drain", flags, env), setting("--max-connection-age", flags, env)),
                atLeastZero(setting("--redis-replicas", flags, env)),
                issuers, resourceId, publicUrls, compatibility, positive(setting("--max-connections-per-client", flags, env)), proxies);
    }

    private static int atLeastZero(Setting s) {
        try {
            int n = Integer.parseInt(s.value().orElseThrow().trim());
            if (n < 0) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(s.name() + " must be an integer of at least 0, got \"" + s.value().get() + "\"");
        }
    }

    /** The drain window (0 or more seconds) and the maximum connection age (none, or 1 or more seconds). */
    private static ConnectionLifetime.Settings lifetime(Setting drain, Setting age) {
        int seconds;
        try {
            seconds = Integer.parseInt(drain.value().orElseThrow().trim());
            if (seconds < 0) {
                throw new NumberFormatException();
            }
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(drain.name() + " must be an integer of at least 0, got \"" + drain.value().get() + "\"");
        }
        Optional<Duration> maxAge = age.value().filter(v -> !v.equals("none")).map(v -> Duration.ofSeconds(positive(age)));
        return new ConnectionLifetime.Settings(Duration.ofSeconds(seconds), maxAge);
    }

    /** Parses {@code --issuer}: {@code ;}-separated entries, each an id and its own {@code NAME=VALUE} key settings. */
    static List<IssuerSpec> issuers(String setting, String value) {
        List<IssuerSpec> out = new java.util.ArrayList<>();
        Set<String> ids = new java.util.HashSet<>();
        for (String entry : value.split(";")) {
            String[] words = entry.strip().split("\\s+");
            if (words.length == 0 || words[0].isEmpty()) {
                continue;
            }
            String id = words[0];
            if (!ids.add(id)) {
                throw new IllegalArgumentException(setting + " names issuer " + id + " twice");
            }
            Map<String, String> keys = new java.util.LinkedHashMap<>();
            for (int i = 1; i < words.length; i++) {
                int eq = words[i].indexOf('=');
                String name = eq < 0 ? words[i] : words[i].substring(0, eq);
                if (eq < 0 || !ISSUER_KEYS.contains(name)) {
                    throw new IllegalArgumentException(setting + ": issuer " + id + " has \"" + name + "\"; its keys are given as "
                            + String.join("=, ", ISSUER_KEYS) + "=");
                }
                String v = words[i].substring(eq + 1);
                if (v.startsWith("@")) {
                    try {
                        v = java.nio.file.Files.readString(java.nio.file.Path.of(v.substring(1))).strip();
                    } catch (java.io.IOException | RuntimeException e) {
                        throw new IllegalArgumentException(setting + ": issuer " + id + ": cannot read " + v.substring(1) + ": " + e.getMessage());
                    }
                }
                keys.put(name, v);
            }
            if (keys.containsKey("publisher-jwt-key") && keys.containsKey("publisher-jwks-url")
                    || keys.containsKey("subscriber-jwt-key") && keys.containsKey("subscriber-jwks-url")) {
                throw new IllegalArgumentException(setting + ": issuer " + id + " gives a key and a JWK set for the same role: give one");
            }
            out.add(new IssuerSpec(id, keys));
        }
        if (out.stream().filter(i -> i.keys().isEmpty()).count() > 1) {
            throw new IllegalArgumentException(setting + " names several issuers without keys of their own; the key options"
                    + " belong to one issuer only (a key never verifies another issuer's token)");
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException(setting + " must name an issuer, got \"" + value + "\"");
        }
        return List.copyOf(out);
    }

    /** An origin {@code scheme://host[:port]}, lower-cased; refused with a message naming the setting otherwise. */
    private static String origin(String setting, String value) {
        try {
            URI u = new URI(value);
            if (u.getScheme() == null || u.getHost() == null || (u.getRawPath() != null && !u.getRawPath().isEmpty()
                    && !u.getRawPath().equals("/"))) {
                throw new URISyntaxException(value, "not an origin");
            }
            return (u.getScheme() + "://" + u.getRawAuthority()).toLowerCase(java.util.Locale.ROOT);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException(setting + " must list origins such as https://hub.example, got \"" + value + "\"");
        }
    }

    /**
     * The protocol settings: the issuers with their verifiers (an issuer without keys of its own takes
     * {@code publishers}/{@code subscribers}), the resource id, the public URLs, the client limits.
     *
     * @param publishers the top-level (or demo) publisher keys
     * @param subscribers the top-level subscriber keys
     * @param defaultIssuer the issuer of the top-level keys when no {@code --issuer} is given (demo mode, or
     *     compatibility mode with 0.x tokens)
     * @throws IllegalArgumentException for an issuer's key that cannot be used, naming it
     */
    HubConfig.Protocol protocol(JwtVerifier publishers, JwtVerifier subscribers, String defaultIssuer,
            java.util.function.Supplier<java.net.http.HttpClient> http) {
        List<AccessTokens.Issuer> list = new java.util.ArrayList<>();
        List<IssuerSpec> specs = issuers.isEmpty() ? List.of(new IssuerSpec(defaultIssuer, Map.of())) : issuers;
        for (IssuerSpec spec : specs) {
            if (spec.keys().isEmpty()) {
                list.add(new AccessTokens.Issuer(spec.id(), Optional.of(publishers), Optional.of(subscribers)));
                continue;
            }
            Optional<String> alg = Optional.ofNullable(spec.keys().get("jwt-alg"))
                    .map(a -> a.toUpperCase(java.util.Locale.ROOT).replace("EDDSA", "EdDSA"));
            String where = "--issuer " + spec.id() + " ";
            Optional<JwtVerifier> pub = verifier(where + "publisher", spec.keys().get("publisher-jwt-key"),
                    spec.keys().get("publisher-jwks-url"), alg, http);
            Optional<JwtVerifier> sub = verifier(where + "subscriber", spec.keys().get("subscriber-jwt-key"),
                    spec.keys().get("subscriber-jwks-url"), alg, http).or(() -> pub);
            list.add(new AccessTokens.Issuer(spec.id(), pub, sub));
        }
        return new HubConfig.Protocol(compatibility, list, resourceId, publicUrls, maxConnectionsPerClient, trustedProxies);
    }

    private static Optional<JwtVerifier> verifier(String what, String key, String jwks, Optional<String> alg,
            java.util.function.Supplier<java.net.http.HttpClient> http) {
        if (jwks != null) {
            URI u = url(new Setting(what + "-jwks-url", Optional.of(jwks))).orElseThrow();
            return Optional.of(JwtVerifier.jwks(u, http.get(), JwtVerifier.DEFAULT_REFRESH, JwtVerifier.DEFAULT_MIN_REFETCH));
        }
        return key == null ? Optional.empty() : Optional.of(JwtVerifier.fromSetting(what + "-jwt-key", key, alg));
    }

    /** Refuses a static key and a JWK set for the same role. */
    private static void exclusive(Setting key, Setting jwks) {
        if (key.value().isPresent() && jwks.value().isPresent()) {
            throw new IllegalArgumentException(key.name() + " and " + jwks.name() + " exclude each other: give one");
        }
    }

    private static Optional<URI> url(Setting s) {
        if (s.value().isEmpty()) {
            return Optional.empty();
        }
        try {
            URI u = new URI(s.value().get());
            boolean loopback = u.getHost() != null && loopback(u.getHost());
            if (u.getHost() == null || !("https".equals(u.getScheme()) || "http".equals(u.getScheme()) && loopback)) {
                throw new URISyntaxException(s.value().get(), "not an https URL");
            }
            return Optional.of(u);
        } catch (URISyntaxException e) {
            // keys fetched over plain HTTP could be replaced on the way: https only, but for a local key server
            throw new IllegalArgumentException(s.name() + " must be an https:// URL (http:// only on a loopback host), got \""
                    + s.value().get() + "\"");
        }
    }

    /**
     * Whether a URL's host is a loopback host by what it literally is: {@code localhost}, an IPv4
     * literal in {@code 127.0.0.0/8} (four decimal parts), or the IPv6 literal {@code ::1}. Never by a
     * name's prefix: {@code 127.evil.example} and {@code 127.0.0.1.nip.io} are names of remote hosts.
     */
    static boolean loopback(String host) {
        if (host.equalsIgnoreCase("localhost")) {
            return true;
        }
        if (host.startsWith("[") && host.endsWith("]")) {
            String v6 = host.substring(1, host.length() - 1);
            if (!v6.matches("[0-9A-Fa-f:]+")) {
                return false; // no zone ids, no embedded IPv4: only the plain forms of ::1
            }
            try {
                // a literal with ':' is parsed, never looked up
                return java.net.InetAddress.getByName(v6) instanceof java.net.Inet6Address a && a.isLoopbackAddress();
            } catch (java.net.UnknownHostException e) {
                return false;
            }
        }
        String[] parts = host.split("\\.", -1);
        if (parts.length != 4 || !parts[0].equals("127")) {
            return false;
        }
        for (String part : parts) {
            if (!part.matches("[0-9]{1,3}") || Integer.parseInt(part) > 255) {
                return false;
            }
        }
        return true;
    }

    private static boolean bool(Setting s, boolean fallback) {
        String v = s.value().orElse(Boolean.toString(fallback));
        if (!v.equals("true") && !v.equals("false")) {
            throw new IllegalArgumentException(s.name() + " must be true or false, got \"" + v + "\"");
        }
        return v.equals("true");
    }

    /** A setting's value and where it came from (the flag, or the variable that supplied it). */
    private record Setting(String name, Optional<String> value) {
    }

    private static Setting setting(String flag, Map<String, String> flags, Map<String, String> env) {
        if (flags.containsKey(flag)) {
            return new Setting(flag, Optional.of(flags.get(flag)));
        }
        Option o = BY_FLAG.get(flag);
        for (String var : o.env()) {
            String v = env.get(var);
            if (v != null && !v.isEmpty()) {
                return new Setting(var, Optional.of(v));
            }
        }
        return new Setting(flag, Optional.ofNullable(o.defaultValue()));
    }

    private static int positive(Setting s) {
        try {
            int n = Integer.parseInt(s.value().get().trim());
            if (n < 1) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(s.name() + " must be a positive integer, got \"" + s.value().get() + "\"");
        }
    }

    static InetSocketAddress address(String setting, String value) {
        int colon = value.lastIndexOf(':');
        if (colon <= 0 || colon == value.length() - 1) {
            throw new IllegalArgumentException(setting + " must be HOST:PORT, got \"" + value + "\"");
        }
        String host = value.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        try {
            int port = Integer.parseInt(value.substring(colon + 1));
            if (port < 0 || port > 65535) {
                throw new NumberFormatException();
            }
            return new InetSocketAddress(host, port);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(setting + " must have a port from 0 to 65535, got \"" + value + "\"");
        }
    }

    /**
     * The publishers' verifier: from their JWK set, their key, or else the demo key, pinned to
     * {@code --jwt-alg} when set.
     *
     * @param demoKey the generated development key, used when no publisher keys are configured
     * @param http makes the client that fetches JWK sets (called only when one is configured)
     * @throws IllegalArgumentException for a key that cannot be used, naming the setting
     */
    JwtVerifier publisherVerifier(Optional<String> demoKey, java.util.function.Supplier<java.net.http.HttpClient> http) {
        if (publisherJwks.isPresent()) {
            return JwtVerifier.jwks(publisherJwks.get(), http.get(), JwtVerifier.DEFAULT_REFRESH, JwtVerifier.DEFAULT_MIN_REFETCH);
        }
        String setting = publisherKey.isPresent() ? "--publisher-jwt-key" : "the demo key";
        return JwtVerifier.fromSetting(setting, publisherKey.or(() -> demoKey).orElseThrow(
                () -> new IllegalArgumentException("no publisher key: give --publisher-jwt-key or --publisher-jwks-url")), algorithm);
    }

    /**
     * The subscribers' verifier: from their JWK set or key, or else the publishers' verifier.
     *
     * @throws IllegalArgumentException for a key that cannot be used, naming the setting
     */
    JwtVerifier subscriberVerifier(JwtVerifier publishers, java.util.function.Supplier<java.net.http.HttpClient> http) {
        if (subscriberJwks.isPresent()) {
            return JwtVerifier.jwks(subscriberJwks.get(), http.get(), JwtVerifier.DEFAULT_REFRESH, JwtVerifier.DEFAULT_MIN_REFETCH);
        }
        return subscriberKey.map(k -> JwtVerifier.fromSetting("--subscriber-jwt-key", k, algorithm)).orElse(publishers);
    }

    /** Whether the hub has publisher keys of its own (else it runs with a generated demo key). */
    boolean hasPublisherKeys() {
        return publisherKey.isPresent() || publisherJwks.isPresent();
    }
}
