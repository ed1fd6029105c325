namespace Dmh.Contracts;

/// <summary>orders.status: written by Ingress and by Settlement (paid on settling, closed by reconciliation).</summary>
public static class OrderStatus
{
    /// <summary>Created, not paid yet; can be paid (again).</summary>
    public const string Pending = "pending";
    /// <summary>Paid; settled by the settlement worker.</summary>
    public const string Paid = "paid";
    /// <summary>Closed unpaid (by an admin or by expiry); a repeat registration reopens it.</summary>
    public const string Closed = "closed";
    /// <summary>Refunded.</summary>
    public const string Refunded = "refunded";
}

/// <summary>orders.pay_status: written by Ingress and by Settlement.</summary>
public static class PayStatus
{
    /// <summary>No successful payment.</summary>
    public const string Unpaid = "unpaid";
    /// <summary>Paid.</summary>
    public const string Paid = "paid";
    /// <summary>Refunded.</summary>
    public const string Refunded = "refunded";
}

/// <summary>payments.status: one payment attempt.</summary>
public static class PaymentStatus
{
    /// <summary>Row written, provider not asked yet.</summary>
    public const string Created = "created";
    /// <summary>Provider returned prepay parameters.</summary>
    public const string Prepaid = "prepaid";
    /// <summary>Paid (confirmed by notify, callback or reconciliation).</summary>
    public const string Succeeded = "succeeded";
    /// <summary>Closed unpaid.</summary>
    public const string Closed = "closed";
}

/// <summary>sync_records.status and orders.sync_status.</summary>
public static class SyncStatus
{
    /// <summary>Nothing to sync (an unpaid order).</summary>
    public const string None = "none";
    /// <summary>Waiting to be copied (or being retried).</summary>
    public const string Pending = "pending";
    /// <summary>In the customer's database.</summary>
    public const string Synced = "synced";
    /// <summary>Gave up after the configured attempts; an operator can retry.</summary>
    public const string Failed = "failed";
}

/// <summary>campaigns.reward_type: written by Ingress (the campaign's reward rule), read by Settlement.</summary>
public static class RewardTypes
{
    /// <summary>A fixed amount per paid referral (campaigns.reward_rule, yuan); the default.</summary>
    public const string Fixed = "fixed";
    /// <summary>Basis points of the order price (campaigns.reward_bps), rounded down to the fen.</summary>
    public const string Percentage = "percentage";
    /// <summary>An amount chosen by the beneficiary's count of paid referrals at that level in the campaign (issue 17).</summary>
    public const string Tiered = "tiered";
}
