package dev.ssekit.spring;

import dev.ssekit.mercure.MercureClient;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * The {@code ssekit.mercure.*} properties from which {@link SsekitMercureAutoConfiguration} builds a
 * {@link MercureClient} when {@code ssekit.mercure.hub-url} is set. Each mirrors a setting of
 * {@link MercureClient.Builder}; {@link #toBuilder()} passes the ones that are set, and the
 * builder's {@code build()} validates them (its message names the setting and value).
 *
 * <p>Not thread-safe: Spring binds it once at startup.
 */
@ConfigurationProperties("ssekit.mercure")
public final class SsekitMercureProperties {

    /** The hub's URL, e.g. https://example.com/.well-known/mercure. Set: a MercureClient bean is offered. */
    private URI hubUrl;

    /** The iss of minted tokens: an issuer the hub trusts (its --issuer). */
    private String issuer;

    /** The signing key: an HMAC secret (at least 32 bytes for HS256) or a PKCS#8 PEM private key (RSA, EC or Ed25519). */
    private String key;

    /** The aud values of minted tokens; default: the hub URL. */
    private List<String> audience = new ArrayList<>();

    /** The JWS algorithm; default: HS256 for a secret, RS256 for RSA, the curve's ES algorithm for EC, EdDSA for Ed25519. */
    private String algorithm;

    /** The kid header of minted tokens; default none. */
    private String keyId;

    /** The client_id of minted tokens; default ssekit-mercure. */
    private String clientId;

    /** The sub of minted tokens; default the client id. */
    private String subject;

    /** How long minted tokens are valid; default 1 hour. */
    private Duration tokenTtl;

    /** How long a publish may wait for the hub's answer; default 30 s. */
    private Duration requestTimeout;

    /** Creates empty properties: no hub URL, so no client. */
    public SsekitMercureProperties() {
    }

    /**
     * A client builder with the properties that are set.
     *
     * @return the builder; its {@code build()} validates
     * @throws IllegalStateException if {@code ssekit.mercure.hub-url} is not set
     */
    public MercureClient.Builder toBuilder() {
        if (hubUrl == null) {
            throw new IllegalStateException("ssekit.mercure.hub-url is not set");
        }
        MercureClient.Builder b = MercureClient.builder(hubUrl);
        if (issuer != null) {
            b.issuer(issuer);
        }
        if (key != null) {
            b.key(key);
        }
        audience.forEach(b::audience);
        if (algorithm != null) {
            b.algorithm(algorithm);
        }
        if (keyId != null) {
            b.keyId(keyId);
        }
        if (clientId != null) {
            b.clientId(clientId);
        }
        if (subject != null) {
            b.subject(subject);
        }
        if (tokenTtl != null) {
            b.tokenTtl(tokenTtl);
        }
        if (requestTimeout != null) {
            b.requestTimeout(requestTimeout);
        }
        return b;
    }

    /**
     * The hub URL.
     *
     * @return the URL, or null when not set
     */
    public URI getHubUrl() {
        return hubUrl;
    }

    /**
     * Sets the hub URL.
     *
     * @param hubUrl the URL
     */
    public void setHubUrl(URI hubUrl) {
        this.hubUrl = hubUrl;
    }

    /**
     * The issuer.
     *
     * @return the issuer, or null
     */
    public String getIssuer() {
        return issuer;
    }

    /**
     * Sets the issuer.
     *
     * @param issuer the issuer
     */
    public void setIssuer(String issuer) {
        this.issuer = issuer;
    }

    /**
     * The key.
     *
     * @return the key, or null
     */
    public String getKey() {
        return key;
    }

    /**
     * Sets the key.
     *
     * @param key an HMAC secret or a PEM private key
     */
    public void setKey(String key) {
        this.key = key;
    }

    /**
     * The audience values.
     *
     * @return the values; empty for the default (the hub URL)
     */
    public List<String> getAudience() {
        return audience;
    }

    /**
     * Sets the audience values.
     *
     * @param audience the values
     */
    public void setAudience(List<String> audience) {
        this.audience = new ArrayList<>(audience);
    }

    /**
     * The algorithm.
     *
     * @return the algorithm, or null for the key's default
     */
    public String getAlgorithm() {
        return algorithm;
    }

    /**
     * Sets the algorithm.
     *
     * @param algorithm e.g. HS256, RS256, ES256
     */
    public void setAlgorithm(String algorithm) {
        this.algorithm = algorithm;
    }

    /**
     * The key id.
     *
     * @return the kid, or null
     */
    public String getKeyId() {
        return keyId;
    }

    /**
     * Sets the key id.
     *
     * @param keyId the kid
     */
    public void setKeyId(String keyId) {
        this.keyId = keyId;
    }

    /**
     * The client id.
     *
     * @return the client id, or null for the default
     */
    public String getClientId() {
        return clientId;
    }

    /**
     * Sets the client id.
     *
     * @param clientId the client id
     */
    public void setClientId(String clientId) {
        this.clientId = clientId;
    }

    /**
     * The subject.
     *
     * @return the subject, or null for the default
     */
    public String getSubject() {
        return subject;
    }

    /**
     * Sets the subject.
     *
     * @param subject the subject
     */
    public void setSubject(String subject) {
        this.subject = subject;
    }

    /**
     * The token lifetime.
     *
     * @return the lifetime, or null for the default
     */
    public Duration getTokenTtl() {
        return tokenTtl;
    }

    /**
     * Sets the token lifetime.
     *
     * @param tokenTtl at least 1 s (checked when the client is built)
     */
    public void setTokenTtl(Duration tokenTtl) {
        this.tokenTtl = tokenTtl;
    }

    /**
     * The publish timeout.
     *
     * @return the timeout, or null for the default
     */
    public Duration getRequestTimeout() {
        return requestTimeout;
    }

    /**
     * Sets the publish timeout.
     *
     * @param requestTimeout positive (checked when the client is built)
     */
    public void setRequestTimeout(Duration requestTimeout) {
        this.requestTimeout = requestTimeout;
    }
}
