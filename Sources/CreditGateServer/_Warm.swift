enum _PlaceholderCreditGateServer {}
