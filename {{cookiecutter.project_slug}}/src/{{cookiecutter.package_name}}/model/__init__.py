"""The model: your estimators and features, and the stages that train and evaluate them."""
