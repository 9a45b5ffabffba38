/**
 * ssekit hub: a standalone publish/subscribe hub speaking the Mercure protocol (draft 07): publish,
 * subscribe, JWT authorization, topic selectors, private updates, resumption from durable history,
 * active subscriptions, CORS, metrics, a demo page. Its one public type is {@link
 * dev.ssekit.hub.HubMain}, the command line entry point.
 */
@SuppressWarnings({"module", "requires-automatic"}) // RE2/J has only an automatic module name, "re2j"
module dev.ssekit.hub {
    requires dev.ssekit;
    requires dev.ssekit.netty;
    requires dev.ssekit.redis;
    requires dev.ssekit.urlpattern;
    requires io.netty.codec.http;
    requires io.netty.codec; // PrematureChannelClosureException
    requires io.netty.transport;
    requires io.netty.common;
    requires io.netty.buffer;
    requires com.fasterxml.jackson.jr.ob;
    requires com.github.benmanes.caffeine;
    requires re2j; // RE2/J declares no module name: this is the automatic one, from its jar's name
    requires com.nimbusds.jose.jwt;
    requires java.net.http;
    requires java.logging;
    requires jdk.management;

    exports dev.ssekit.hub;
}
