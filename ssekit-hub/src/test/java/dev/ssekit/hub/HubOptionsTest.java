package dev.ssekit.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HubOptionsTest {

    /**
     * {@link HubOptions#parse} in compatibility mode 8 unless the case sets the mode or an issuer itself: these cases
     * were written for the 0.x hub, whose key options needed no --issuer (issue #24).
     */
    static HubOptions parse(String[] args, Map<String, String> env) throws HubOptions.HelpRequested {
        List<String> all = List.of(args);
        if (all.stream().anyMatch(a -> a.startsWith("--protocol-version-compatibility") || a.startsWith("--issuer"))
                || env.containsKey("SSEKIT_PROTOCOL_VERSION_COMPATIBILITY") || env.containsKey("SSEKIT_ISSUER")) {
            return HubOptions.parse(args, env);
        }
        List<String> with = new java.util.ArrayList<>(List.of("--protocol-version-compatibility=8"));
        with.addAll(all);
        return HubOptions.parse(with.toArray(String[]::new), env);
    }

    @Test
    void defaults() throws Exception {
        HubOptions o = parse(new String[0], Map.of());
        assertThat(o.listen().getHostString()).isEqualTo("127.0.0.1");
        assertThat(o.listen().getPort()).isEqualTo(8080);
        assertThat(o.publisherKey()).isEmpty();
        assertThat(o.algorithm()).as("no pin: any algorithm of the key's type").isEmpty();
        assertThat(o.publisherJwks()).isEmpty();
        assertThat(o.tlsCert()).isEmpty();
        assertThat(o.anonymous()).isTrue();
        assertThat(o.maxConnections()).isEqualTo(15_000);
        assertThat(o.heartbeat()).isEqualTo(Duration.ofSeconds(15));
        assertThat(o.demo()).as("no publisher key: demo mode").isTrue();
        assertThat(o.subscriptions()).as("active subscriptions follow demo mode").isTrue();
        assertThat(o.logFormat()).isEqualTo("text");
        assertThat(o.historyEvents()).isEqualTo(100_000);
        assertThat(o.historyMegabytes()).isEqualTo(256);
        assertThat(o.historyAge()).isEqualTo(Duration.ofDays(7));
        HubOptions limits = parse(new String[] {"--history-mb", "8", "--history-hours=2"}, Map.of("SSEKIT_HISTORY_EVENTS", "50"));
        assertThat(limits.historyEvents()).isEqualTo(50);
        assertThat(limits.historyMegabytes()).isEqualTo(8);
        assertThat(limits.historyAge()).isEqualTo(Duration.ofHours(2));
    }

    @Test
    void demoModeAndSubscriptionsFollowThePublisherKeyUnlessSet() throws Exception {
        HubOptions keyed = parse(new String[] {"--publisher-jwt-key", "k"}, Map.of());
        assertThat(keyed.demo()).isFalse();
        assertThat(keyed.subscriptions()).isFalse();
        HubOptions both = parse(new String[] {"--publisher-jwt-key", "k", "--demo", "true", "--log-format", "json"},
                Map.of("SSEKIT_SUBSCRIPTIONS", "false"));
        assertThat(both.demo()).isTrue();
        assertThat(both.subscriptions()).isFalse();
        assertThat(both.logFormat()).isEqualTo("json");
        assertThatThrownBy(() -> parse(new String[0], Map.of("SSEKIT_LOG_FORMAT", "xml")))
                .hasMessage("SSEKIT_LOG_FORMAT must be text or json, got \"xml\"");
    }

    @Test
    void environmentThenFlags() throws Exception {
        Map<String, String> env = Map.of("SSEKIT_LISTEN", "127.0.0.2:9000", "MERCURE_PUBLISHER_JWT_KEY", "from-mercure",
                "MERCURE_SUBSCRIBER_JWT_KEY", "sub", "SSEKIT_CORS_ORIGINS", "https://a.example, https://b.example");
        HubOptions o = parse(new String[0], env);
        assertThat(o.listen().getPort()).isEqualTo(9000);
        assertThat(o.publisherKey()).contains("from-mercure");
        assertThat(o.subscriberKey()).contains("sub");
        assertThat(o.corsOrigins()).containsExactly("https://a.example", "https://b.example");
        HubOptions flags = parse(new String[] {"--listen", "127.0.0.3:9001", "--publisher-jwt-key=flag",
            "--anonymous", "false"}, Map.of("SSEKIT_PUBLISHER_JWT_KEY", "ssekit", "MERCURE_PUBLISHER_JWT_KEY", "mercure"));
        assertThat(flags.listen().getPort()).isEqualTo(9001);
        assertThat(flags.publisherKey()).contains("flag");
        assertThat(flags.anonymous()).isFalse();
        assertThat(parse(new String[0], Map.of("SSEKIT_PUBLISHER_JWT_KEY", "ssekit", "MERCURE_PUBLISHER_JWT_KEY", "m"))
                .publisherKey()).contains("ssekit");
    }

    @Test
    void errorsNameTheSettingAndValue() {
        assertThatThrownBy(() -> parse(new String[] {"--listen", "nowhere"}, Map.of()))
                .hasMessage("--listen must be HOST:PORT, got \"nowhere\"");
        assertThatThrownBy(() -> parse(new String[0], Map.of("SSEKIT_LISTEN", "h:99999")))
                .hasMessage("SSEKIT_LISTEN must have a port from 0 to 65535, got \"h:99999\"");
        assertThatThrownBy(() -> parse(new String[] {"--max-connections", "0"}, Map.of()))
                .hasMessage("--max-connections must be a positive integer, got \"0\"");
        assertThatThrownBy(() -> parse(new String[] {"--jwt-alg", "none"}, Map.of()))
                .hasMessage("--jwt-alg must be one of HS256, HS384, HS512, RS256, RS384, RS512, ES256, ES384, EdDSA, got \"none\"");
        assertThatThrownBy(() -> parse(new String[] {"--anonymous", "maybe"}, Map.of()))
                .hasMessage("--anonymous must be true or false, got \"maybe\"");
        assertThatThrownBy(() -> parse(new String[] {"--bogus", "1"}, Map.of()))
                .hasMessage("unknown option --bogus (see --help)");
        assertThatThrownBy(() -> parse(new String[] {"--listen"}, Map.of())).hasMessage("--listen needs a value");
        assertThatThrownBy(() -> parse(new String[] {"--help"}, Map.of())).isInstanceOf(HubOptions.HelpRequested.class);
        HubOptions o;
        try {
            o = parse(new String[0], Map.of());
        } catch (HubOptions.HelpRequested e) {
            throw new AssertionError(e);
        }
        assertThatThrownBy(() -> parse(new String[] {"--publisher-jwt-key", "short"}, Map.of())
                .publisherVerifier(java.util.Optional.empty(), () -> null))
                .hasMessage("--publisher-jwt-key: an HMAC key must be at least 32 bytes (256 bits), got 5");
        assertThat(o.publisherVerifier(java.util.Optional.of("a-demo-key-of-at-least-32-bytes!!"), () -> null)).isNotNull();
        assertThatThrownBy(() -> parse(new String[] {"--publisher-jwks-url", "ftp://keys.example/jwks"}, Map.of()))
                .hasMessage("--publisher-jwks-url must be an https:// URL (http:// only on a loopback host), got \"ftp://keys.example/jwks\"");
        assertThatThrownBy(() -> parse(new String[] {"--subscriber-jwks-url", "http://keys.example/jwks"}, Map.of()))
                .as("keys over plain HTTP from another host could be replaced on the way")
                .hasMessage("--subscriber-jwks-url must be an https:// URL (http:// only on a loopback host), got \"http://keys.example/jwks\"");
        assertThatThrownBy(() -> parse(new String[] {"--jwt-alg", "RS256", "--publisher-jwks-url", "https://id.example/certs"}, Map.of()))
                .hasMessageStartingWith("--jwt-alg pins static keys");
        assertThatThrownBy(() -> parse(new String[] {"--publisher-jwt-key", "k"},
                Map.of("SSEKIT_PUBLISHER_JWKS_URL", "https://keys.example/jwks")))
                .hasMessage("--publisher-jwt-key and SSEKIT_PUBLISHER_JWKS_URL exclude each other: give one");
        assertThatThrownBy(() -> parse(new String[] {"--tls-cert", "c.pem"}, Map.of()))
                .hasMessage("--tls-cert needs --tls-key (SSEKIT_TLS_KEY): HTTPS takes both the certificate and its key");
        assertThatThrownBy(() -> parse(new String[] {"--tls", "on"}, Map.of()))
                .hasMessage("--tls must be off or self-signed, got \"on\"");
        assertThatThrownBy(() -> parse(new String[] {"--tls-cert", "c.pem", "--tls-key", "k.pem"}, Map.of("SSEKIT_TLS", "self-signed")))
                .hasMessage("SSEKIT_TLS self-signed and --tls-cert exclude each other: give one");
    }

    @Test
    void jwksAndAlgorithms() throws Exception {
        HubOptions o = parse(new String[] {"--subscriber-jwks-url", "https://id.example/realms/app/certs"},
                Map.of("SSEKIT_PUBLISHER_JWKS_URL", "http://127.0.0.1:9/jwks"));
        assertThat(o.publisherJwks()).contains(java.net.URI.create("http://127.0.0.1:9/jwks"));
        assertThat(o.subscriberJwks()).contains(java.net.URI.create("https://id.example/realms/app/certs"));
        assertThat(parse(new String[] {"--jwt-alg", "es256"}, Map.of()).algorithm()).contains("ES256");
        assertThat(o.hasPublisherKeys()).isTrue();
        assertThat(o.demo()).as("publisher keys from a JWK set: not demo mode").isFalse();
        assertThat(parse(new String[] {"--jwt-alg", "eddsa"}, Map.of()).algorithm()).contains("EdDSA");
    }

    /** One table makes the usage text: every option and every variable appears in it, once. */
    @Test
    void theUsageTextListsEveryOptionAndVariable() {
        for (String name : List.of("--listen", "--publisher-jwt-key", "MERCURE_PUBLISHER_JWT_KEY", "--publisher-jwks-url",
                "SSEKIT_PUBLISHER_JWKS_URL", "--subscriber-jwks-url", "SSEKIT_SUBSCRIBER_JWKS_URL", "--tls-cert", "SSEKIT_TLS_CERT",
                "--tls-key", "SSEKIT_TLS_KEY", "--redis", "SSEKIT_REDIS", "--jwt-alg", "--publish-origins", "SSEKIT_PUBLISH_ORIGINS",
                "--metrics-listen", "SSEKIT_METRICS_LISTEN", "--metrics-token", "SSEKIT_METRICS_TOKEN", "--idle-timeout",
                "SSEKIT_IDLE_TIMEOUT", "--body-timeout", "SSEKIT_BODY_TIMEOUT", "--body-min-rate", "SSEKIT_BODY_MIN_RATE",
                "--max-pending-body-mb", "SSEKIT_MAX_PENDING_BODY_MB", "--drain", "SSEKIT_DRAIN", "--max-connection-age",
                "SSEKIT_MAX_CONNECTION_AGE", "--redis-replicas", "SSEKIT_REDIS_REPLICAS")) {
            assertThat(HubOptions.USAGE).as(name).containsOnlyOnce(name + " ");
        }
        assertThat(HubOptions.USAGE.lines().filter(l -> l.startsWith("  --"))).hasSize(41); // 32 before issues #24 (six) and #26 (three)
    }

    @Test
    void theLimitsOfIssue28HaveDefaultsFlagsAndVariables() throws Exception {
        HubConfig.Limits d = parse(new String[0], Map.of()).limits();
        assertThat(d.publishOrigins()).isEmpty();
        assertThat(d.metricsListen()).isEmpty();
        assertThat(d.metricsToken()).isEmpty();
        assertThat(d.idleTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(d.bodyTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(d.bodyMinRate()).isEqualTo(1024);
        assertThat(d.maxPendingBytes()).isEqualTo(64L << 20);
        HubConfig.Limits set = parse(new String[] {"--publish-origins", "https://a.example, https://b.example",
                "--metrics-listen", "127.0.0.1:9100", "--idle-timeout", "5", "--body-min-rate", "0"},
                Map.of("SSEKIT_METRICS_TOKEN", "t", "SSEKIT_BODY_TIMEOUT", "7", "SSEKIT_MAX_PENDING_BODY_MB", "16")).limits();
        assertThat(set.publishOrigins()).containsExactlyInAnyOrder("https://a.example", "https://b.example");
        assertThat(set.metricsListen()).hasValueSatisfying(a -> assertThat(a.getPort()).isEqualTo(9100));
        assertThat(set.metricsToken()).contains("t");
        assertThat(set.idleTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(set.bodyTimeout()).isEqualTo(Duration.ofSeconds(7));
        assertThat(set.bodyMinRate()).isZero();
        assertThat(set.maxPendingBytes()).isEqualTo(16L << 20);
        assertThatThrownBy(() -> parse(new String[] {"--publish-origins", "*"}, Map.of()))
                .hasMessageContaining("--publish-origins must list origins");
        assertThatThrownBy(() -> parse(new String[] {"--body-min-rate", "-1"}, Map.of()))
                .hasMessageContaining("--body-min-rate must be an integer of at least 0, got \"-1\"");
        assertThatThrownBy(() -> parse(new String[0], Map.of("SSEKIT_IDLE_TIMEOUT", "0")))
                .hasMessageContaining("SSEKIT_IDLE_TIMEOUT must be a positive integer");
        assertThatThrownBy(() -> parse(new String[] {"--metrics-listen", "nowhere"}, Map.of()))
                .hasMessageContaining("--metrics-listen must be HOST:PORT");
    }

    @Test
    void theLifetimeSettingsOfIssue26HaveDefaultsFlagsAndVariables() throws Exception {
        ConnectionLifetime.Settings d = HubOptions.parse(new String[0], Map.of()).lifetime();
        assertThat(d.drain()).isEqualTo(Duration.ofSeconds(20));
        assertThat(d.maxConnectionAge()).isEmpty();
        ConnectionLifetime.Settings set = HubOptions.parse(new String[] {"--drain", "0"},
                Map.of("SSEKIT_MAX_CONNECTION_AGE", "3600", "SSEKIT_DRAIN", "5")).lifetime();
        assertThat(set.drain()).as("the flag wins").isZero();
        assertThat(set.maxConnectionAge()).contains(Duration.ofHours(1));
        assertThatThrownBy(() -> HubOptions.parse(new String[] {"--drain", "-1"}, Map.of()))
                .hasMessageContaining("--drain must be an integer of at least 0, got \"-1\"");
        assertThatThrownBy(() -> HubOptions.parse(new String[0], Map.of("SSEKIT_MAX_CONNECTION_AGE", "0")))
                .hasMessageContaining("SSEKIT_MAX_CONNECTION_AGE must be a positive integer");
        assertThat(HubOptions.parse(new String[0], Map.of()).redisReplicas()).isZero();
        assertThat(HubOptions.parse(new String[0], Map.of("SSEKIT_REDIS_REPLICAS", "1")).redisReplicas()).isEqualTo(1);
        assertThatThrownBy(() -> HubOptions.parse(new String[] {"--redis-replicas", "-1"}, Map.of()))
                .hasMessageContaining("--redis-replicas must be an integer of at least 0, got \"-1\"");
    }

    // ---- Mercure 1.0 (issue #24)

    private static final String K = "!ChangeThisMercureHubJWTSecretKey!";

    @Test
    void keysWithoutAnIssuerOutsideCompatibilityModeNameBothWaysOut() {
        assertThatThrownBy(() -> HubOptions.parse(new String[] {"--publisher-jwt-key", K}, Map.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--issuer ID (SSEKIT_ISSUER)").hasMessageContaining("--protocol-version-compatibility 8");
        assertThatThrownBy(() -> HubOptions.parse(new String[0], Map.of("MERCURE_PUBLISHER_JWT_KEY", K)))
                .hasMessageContaining("--issuer");
        assertThatThrownBy(() -> HubOptions.parse(new String[] {"--protocol-version-compatibility", "7"}, Map.of()))
                .hasMessage("--protocol-version-compatibility must be 8 (or none), got \"7\"");
    }

    @Test
    void issuersEachWithTheirOwnKeys() throws Exception {
        HubOptions o = HubOptions.parse(new String[] {"--issuer", "https://a.example ; https://b.example publisher-jwt-key=0123456789012345678901234567890123 jwt-alg=HS256",
            "--publisher-jwt-key", "!ChangeThisMercureHubJWTSecretKey!", "--resource-id", "https://hub.example/.well-known/mercure",
            "--public-urls", "https://hub.example, http://127.0.0.1:8080", "--max-connections-per-client", "7",
            "--trusted-proxies", "10.0.0.1"}, Map.of());
        assertThat(o.issuers()).extracting(HubOptions.IssuerSpec::id).containsExactly("https://a.example", "https://b.example");
        assertThat(o.issuers().get(0).keys()).isEmpty();
        assertThat(o.issuers().get(1).keys()).containsEntry("jwt-alg", "HS256");
        assertThat(o.resourceId()).contains("https://hub.example/.well-known/mercure");
        assertThat(o.publicUrls()).containsExactlyInAnyOrder("https://hub.example", "http://127.0.0.1:8080");
        assertThat(o.compatibility()).isZero();
        JwtVerifier top = JwtVerifier.secret("!ChangeThisMercureHubJWTSecretKey!".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        HubConfig.Protocol p = o.protocol(top, top, "unused", () -> { throw new AssertionError("no JWKS here"); });
        assertThat(p.issuers()).hasSize(2);
        assertThat(p.issuers().get(0).publisher()).containsSame(top);
        assertThat(p.issuers().get(1).publisher().orElseThrow()).isNotSameAs(top);
        assertThat(p.issuers().get(1).subscriber()).as("its publisher keys verify its subscribers too").isEqualTo(p.issuers().get(1).publisher());
        assertThat(p.maxConnectionsPerClient()).isEqualTo(7);
        assertThat(p.trustedProxies()).containsExactly("10.0.0.1");
        // from the environment
        HubOptions env = HubOptions.parse(new String[0], Map.of("SSEKIT_ISSUER", "https://a.example", "SSEKIT_PUBLISHER_JWT_KEY", K,
                "SSEKIT_PROTOCOL_VERSION_COMPATIBILITY", "8", "SSEKIT_MAX_CONNECTIONS_PER_CLIENT", "3"));
        assertThat(env.compatibility()).isEqualTo(8);
        assertThat(env.maxConnectionsPerClient()).isEqualTo(3);
    }

    @Test
    void badIssuerSettingsAreRefusedByName() {
        assertThatThrownBy(() -> HubOptions.parse(new String[] {"--issuer", "a;a", "--publisher-jwt-key", K}, Map.of()))
                .hasMessage("--issuer names issuer a twice");
        assertThatThrownBy(() -> HubOptions.parse(new String[] {"--issuer", "a;b", "--publisher-jwt-key", K}, Map.of()))
                .hasMessageContaining("several issuers without keys of their own");
        assertThatThrownBy(() -> HubOptions.parse(new String[] {"--issuer", "a key=x", "--publisher-jwt-key", K}, Map.of()))
                .hasMessageContaining("issuer a has \"key\"");
        assertThatThrownBy(() -> HubOptions.parse(new String[] {"--public-urls", "https://x/path", "--protocol-version-compatibility", "8"},
                Map.of())).hasMessageContaining("--public-urls must list origins");
        assertThat(HubOptions.USAGE).contains("--issuer").contains("SSEKIT_ISSUER").contains("SSEKIT_RESOURCE_ID")
                .contains("SSEKIT_PROTOCOL_VERSION_COMPATIBILITY").contains("SSEKIT_MAX_CONNECTIONS_PER_CLIENT");
    }
}
