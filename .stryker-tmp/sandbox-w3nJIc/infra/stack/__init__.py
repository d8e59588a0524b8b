"""The Pulumi side of hyphae: one component per environment, the Vectorize provider, the policies.

Everything under here is for deploying. Importing this package itself is cheap (it imports
nothing); the modules inside import `pulumi` and `pulumi_cloudflare`, so only the Pulumi program,
the policy pack and `invoke preview/up` reach them.
"""
