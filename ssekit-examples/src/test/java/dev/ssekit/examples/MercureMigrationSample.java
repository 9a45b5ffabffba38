package dev.ssekit.examples;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.ssekit.client.EventSource;
import java.net.URI;
import java.net.URLEncoder;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;

/**
 * The README's "0.x to 1.0 migration" samples: a Mercure 1.0 access token minted with nimbus-jose-jwt
 * (what replaces a 0.x token's {@code mercure} claim), and a 1.0 subscriber with ssekit-client (what
 * replaces {@code topic=}, {@code ?authorization=} and {@code lastEventID}). Nimbus comes with
 * ssekit-hub, a test dependency here: this file lives (and is compiled) with the tests, and
 * MercureMigrationSampleTest runs it against the hub.
 */
final class MercureMigrationSample {

    private MercureMigrationSample() {
    }

    /** A 1.0 token of issuer https://auth.example.com for the hub https://hub.example.com, granting {@code action} on books. */
    static String accessToken(byte[] key, String action) throws JOSEException {
        // readme:mercure-token:start
        // 0.x: {"mercure": {"publish": ["https://example.com/books/{id}"]}}, any JWS
        JWTClaimsSet claims = new JWTClaimsSet.Builder()
                .issuer("https://auth.example.com")                       // the hub's --issuer
                .audience("https://hub.example.com/.well-known/mercure")  // its --resource-id
                .expirationTime(Date.from(Instant.now().plus(Duration.ofMinutes(15)))) // required
                .claim("authorization_details", List.of(Map.of(
                        "type", "https://mercure.rocks/authorization-detail",
                        "actions", List.of(action), // "publish" or "subscribe"
                        "topics", List.of(Map.of("match", "https://example.com/books/:id", "match_type", "urlpattern")))))
                .build();
        SignedJWT token = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256)
                .type(new JOSEObjectType("at+jwt")).build(), claims);
        token.sign(new MACSigner(key));
        return token.serialize();
        // readme:mercure-token:end
    }

    /** A 1.0 subscriber to every book, resuming after {@code lastSeen}. */
    static EventSource books(URI hub, String subscriberToken, String lastSeen) {
        // readme:mercure-subscriber:start
        // 0.x: ?topic=https://example.com/books/{id}&authorization=TOKEN&lastEventID=ID
        return EventSource.builder(URI.create(hub + "?match_urlpattern="
                        + URLEncoder.encode("https://example.com/books/:id", UTF_8)))
                .header("Authorization", "Bearer " + subscriberToken) // no token in the query in 1.0
                .lastEventId(lastSeen) // answered with Mercure-Last-Event-ID
                .build();
        // readme:mercure-subscriber:end
    }
}
