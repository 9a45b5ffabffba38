/**
 * ssekit hub: a publish/subscribe hub speaking the Mercure protocol. Work in progress (issue #6):
 * so far its authorization (JWT) and topic selectors; nothing is exported yet.
 */
module dev.ssekit.hub {
    requires dev.ssekit;
    requires com.fasterxml.jackson.jr.ob;
}
