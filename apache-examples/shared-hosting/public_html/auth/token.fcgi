#!/bin/sh
# Written by mcpauth-admin deploy. .htaccess cannot hand FastCGI
# programs environment variables, so this names the configuration.
MCPAUTH_CONFIG='/home/alice/mcpauth/etc/mcpauth.conf'
export MCPAUTH_CONFIG
exec '/home/alice/mcpauth/libexec/mcpauth/mcpauth-token'
