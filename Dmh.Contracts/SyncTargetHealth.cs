namespace Dmh.Contracts;

/// <summary>
/// The customer database's health as the syncer last probed it: a Redis hash written by the syncer's
/// outbox sweeper and read by Ingress's sync summary. Prefixed with <c>Redis:KeyPrefix</c> like every key.
/// </summary>
public static class SyncTargetHealth
{
    /// <summary>The hash's key; it expires when the syncer stops reporting.</summary>
    public const string Key = "dmh:sync:target-health";

    /// <summary>Hash field names.</summary>
    public static class Fields
    {
        /// <summary>The target's database type (ExternalSync:Database:Type).</summary>
        public const string Type = "type";
        /// <summary><c>1</c> when the last probe succeeded, else <c>0</c>.</summary>
        public const string Healthy = "healthy";
        /// <summary>The last probe's error; empty when healthy.</summary>
        public const string Error = "error";
        /// <summary>When the probe ran, ISO 8601 UTC.</summary>
        public const string CheckedAt = "checkedAt";
    }
}
