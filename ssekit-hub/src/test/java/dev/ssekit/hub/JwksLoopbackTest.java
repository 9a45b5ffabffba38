package dev.ssekit.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * "https only, except on a loopback host" for JWK set URLs: loopback is decided by the literal
 * address ({@code 127.0.0.0/8}, {@code ::1}) or the name {@code localhost}, never by a name's
 * prefix, so a remote host named {@code 127.something} gets no plain-HTTP exception.
 */
@Timeout(30)
class JwksLoopbackTest { // HubOptionsTest.parse: compatibility mode, as these 0.x key options need (issue #24)

    @Test
    void namesThatMerelyStartLikeALoopbackAddressAreRefusedOverPlainHttp() {
        for (String url : List.of("http://127.evil.example/jwks", "http://127.0.0.1.nip.io/jwks", "http://127.0.0.1.evil.example:8080/jwks",
                "http://localhost.evil.example/jwks", "http://127.0.0.256/jwks", "http://127.1/jwks", "http://[::2]/jwks",
                "http://0x7f000001/jwks",
                // other spellings a resolver may read as loopback, refused by the literal rule: octal and hex parts,
                // two-part form, IPv4-mapped IPv6 (dotted and hex), a trailing dot, and userinfo naming a loopback
                // address in front of a remote host (the host is evil.example)
                "http://0177.0.0.1/jwks", "http://0x7f.0.0.1/jwks", "http://127.0.1/jwks", "http://[::ffff:127.0.0.1]/jwks",
                "http://[::ffff:7f00:1]/jwks", "http://localhost./jwks", "http://127.0.0.1./jwks", "http://127.0.0.1@evil.example/jwks",
                "http://localhost@evil.example:8080/jwks")) {
            for (String option : List.of("--publisher-jwks-url", "--subscriber-jwks-url")) {
                assertThatThrownBy(() -> HubOptionsTest.parse(new String[] {option, url}, Map.of())).as(url)
                        .isInstanceOf(IllegalArgumentException.class)
                        .hasMessage(option + " must be an https:// URL (http:// only on a loopback host), got \"" + url + "\"");
            }
        }
        assertThatThrownBy(() -> HubOptionsTest.parse(new String[0], Map.of("SSEKIT_PUBLISHER_JWKS_URL", "http://127.0.0.1.nip.io/jwks")))
                .hasMessageStartingWith("SSEKIT_PUBLISHER_JWKS_URL must be an https:// URL").hasMessageContaining("127.0.0.1.nip.io");
    }

    @Test
    void literalLoopbackAddressesAndLocalhostMayUsePlainHttp() throws Exception {
        for (String url : List.of("http://127.0.0.1/jwks", "http://127.0.0.1:9/jwks", "http://127.255.3.4:8080/keys", "http://localhost/jwks",
                "http://LOCALHOST:9/jwks", "http://[::1]/jwks", "http://[::1]:9/jwks", "http://[0:0:0:0:0:0:0:1]:9/jwks")) {
            HubOptions o = HubOptionsTest.parse(new String[] {"--publisher-jwks-url", url}, Map.of());
            assertThat(o.publisherJwks()).as(url).contains(URI.create(url));
        }
        for (String url : List.of("https://127.evil.example/jwks", "https://id.example/certs", "https://127.0.0.1.nip.io/jwks")) {
            assertThat(HubOptionsTest.parse(new String[] {"--subscriber-jwks-url", url}, Map.of()).subscriberJwks()).as(url)
                    .contains(URI.create(url));
        }
    }
}
